use std::time::{Duration, Instant};

use app::model::{AccountStatus, DestinationState, RestreamChannel, VolunteerChannels};
use app::secrets::Sealed;
use app::store::{RestreamProfile, RestreamUserId, SealedTokens};

use super::*;

fn account(n: i64, status: AccountStatus) -> Account {
    let at = app::store::now();
    Account {
        id: AccountId::from_stored(format!("account-{n}")),
        display_name: format!("Volunteer {n}"),
        email: format!("v{n}@example.org"),
        channels: VolunteerChannels::default(),
        restream: RestreamProfile { user_id: RestreamUserId(n), username: format!("v{n}"), email: format!("v{n}@restream.example") },
        restream_channels: vec![RestreamChannel {
            id: n * 10,
            platform_id: 5,
            platform: "YouTube".into(),
            display_name: format!("V{n} on YouTube"),
            url: None,
            enabled: true,
        }],
        tokens: (status != AccountStatus::Disconnected).then(|| SealedTokens {
            access: Sealed::from_bytes(vec![1]),
            refresh: Sealed::from_bytes(vec![2]),
            access_expires_at: at,
        }),
        status,
        link_epoch: 0,
        mail: Default::default(),
        created_at: at,
        updated_at: at,
    }
}

fn target(key: &str) -> RtmpTarget {
    RtmpTarget::parse(&format!("rtmp://sink.example/live/{key}")).unwrap_or_else(|e| panic!("{e}"))
}

fn direct(n: u32, enabled: bool, key: Option<&str>) -> OpenedDirect {
    let at = app::store::now();
    OpenedDirect {
        direct: DirectDestination {
            id: DirectId::from_stored(format!("d{n}")),
            label: format!("Direct {n}"),
            server: "rtmp://sink.example/live".into(),
            key: Sealed::from_bytes(vec![3]),
            enabled,
            created_at: at,
            updated_at: at,
        },
        target: key.map(target),
    }
}

fn ids(accounts: &[Account]) -> Vec<String> {
    accounts.iter().map(|a| a.id.to_string()).collect()
}

fn account_id(n: i64) -> DestinationId {
    DestinationId::Account(AccountId::from_stored(format!("account-{n}")))
}

#[test]
fn active_accounts_are_prepared_and_the_others_listed_as_held() {
    let accounts = [
        account(1, AccountStatus::Active),
        account(2, AccountStatus::Paused),
        account(3, AccountStatus::NeedsReconnect),
        account(4, AccountStatus::Disconnected),
    ];
    let (failed, preparing) = (HashMap::new(), HashSet::new());
    let current = Current { joined: HashMap::new(), failed: &failed, preparing: &preparing };
    let plan = plan(&accounts, &[], &current, true, Instant::now());
    assert_eq!(ids(&plan.prepare), ["account-1"]);
    let held: Vec<(String, DestinationState)> = plan.held.iter().map(|r| (r.id.to_string(), r.state)).collect();
    assert_eq!(held, [("account-2".into(), DestinationState::Paused), ("account-3".into(), DestinationState::NeedsReconnect)]);
    assert!(plan.leave.is_empty() && plan.join.is_empty());
}

#[test]
fn without_a_restream_app_no_account_is_wanted() {
    let accounts = [account(1, AccountStatus::Active), account(2, AccountStatus::Paused)];
    let (failed, preparing) = (HashMap::new(), HashSet::new());
    let plan = plan(&accounts, &[], &Current { joined: HashMap::new(), failed: &failed, preparing: &preparing }, false, Instant::now());
    assert!(plan.prepare.is_empty() && plan.wanted.is_empty());
    assert_eq!(plan.held.len(), 1, "a paused account is still listed");
}

#[test]
fn an_account_paused_mid_live_leaves_with_its_reason_and_a_joined_one_stays() {
    let accounts = [account(1, AccountStatus::Active), account(2, AccountStatus::Paused)];
    let (one, two) = (account_id(1), account_id(2));
    let (t1, t2) = (target("k1"), target("k2"));
    let (failed, preparing) = (HashMap::new(), HashSet::new());
    let joined = HashMap::from([(&one, (&t1, "Volunteer 1")), (&two, (&t2, "Volunteer 2"))]);
    let plan = plan(&accounts, &[], &Current { joined, failed: &failed, preparing: &preparing }, true, Instant::now());
    assert_eq!(plan.leave, [(two, "Volunteer 2".to_string(), "paused".to_string())]);
    assert!(plan.prepare.is_empty(), "the joined one is not prepared again");
}

#[test]
fn accounts_being_prepared_or_failed_recently_are_not_prepared_again() {
    let accounts = [account(1, AccountStatus::Active), account(2, AccountStatus::Active), account(3, AccountStatus::Active)];
    let now = Instant::now();
    let refused = Failed::after(None, now, "Restream refused".into(), false);
    let transient = Failed::after(None, now.checked_sub(Duration::from_secs(6)).unwrap_or(now), "Restream answered 500".into(), true);
    let failed = HashMap::from([(AccountId::from_stored("account-2"), refused), (AccountId::from_stored("account-3"), transient)]);
    let preparing = HashSet::from([AccountId::from_stored("account-1")]);
    let plan = plan(&accounts, &[], &Current { joined: HashMap::new(), failed: &failed, preparing: &preparing }, true, now);
    assert_eq!(ids(&plan.prepare), ["account-3"], "a transient failure is tried again after 5 s, a refusal not before a minute");
    let held: Vec<(String, Option<String>)> = plan.held.iter().map(|r| (r.id.to_string(), r.last_error.clone())).collect();
    assert_eq!(held.first(), Some(&("account-2".to_string(), Some("Restream refused".to_string()))));
}

#[test]
fn failures_in_a_row_wait_longer_when_transient_and_a_minute_when_refused() {
    let now = Instant::now();
    let first = Failed::after(None, now, "500".into(), true);
    let second = Failed::after(Some(&first), now, "500".into(), true);
    let many = (0..10).fold(second.clone(), |f, _| Failed::after(Some(&f), now, "500".into(), true));
    assert_eq!(
        (first.retry_after, second.retry_after, many.retry_after),
        (RETRY_TRANSIENT_AFTER, RETRY_TRANSIENT_AFTER * 2, RETRY_REFUSED_AFTER)
    );
    assert_eq!(Failed::after(None, now, "401".into(), false).retry_after, RETRY_REFUSED_AFTER);
}

#[test]
fn direct_destinations_join_leave_when_disabled_rejoin_when_their_key_changes_and_keep_a_new_label_in_place() {
    let (failed, preparing) = (HashMap::new(), HashSet::new());
    let none = Current { joined: HashMap::new(), failed: &failed, preparing: &preparing };
    let directs = [direct(1, true, Some("a")), direct(2, false, Some("b")), direct(3, true, None)];
    let first = plan(&[], &directs, &none, true, Instant::now());
    assert_eq!(first.join.iter().map(|(id, _, _)| id.to_string()).collect::<Vec<_>>(), ["d1"]);
    assert_eq!(first.unopenable, [(DirectId::from_stored("d3"), "Direct 3".to_string())]);

    let (d1, d2) = (DestinationId::Direct(DirectId::from_stored("d1")), DestinationId::Direct(DirectId::from_stored("d2")));
    let (old, b) = (target("a-old"), target("b"));
    let joined = HashMap::from([(&d1, (&old, "Old label")), (&d2, (&b, "Direct 2"))]);
    let now = plan(&[], &directs, &Current { joined, failed: &failed, preparing: &preparing }, true, Instant::now());
    let leave: Vec<(String, String)> = now.leave.iter().map(|(id, _, why)| (id.to_string(), why.clone())).collect();
    assert_eq!(leave, [("direct-d1".to_string(), "changed".to_string()), ("direct-d2".to_string(), "removed".to_string())]);
    assert_eq!(now.join.len(), 1, "the changed one joins again with its new key");

    let a = target("a");
    let renamed = plan(
        &[],
        &directs,
        &Current { joined: HashMap::from([(&d1, (&a, "Old label"))]), failed: &failed, preparing: &preparing },
        true,
        Instant::now(),
    );
    assert!(renamed.leave.is_empty() && renamed.join.is_empty());
    assert_eq!(renamed.rename, [(DirectId::from_stored("d1"), "Direct 1".to_string())]);
}

#[test]
fn a_deleted_account_leaves_as_removed() {
    let (gone, t) = (account_id(9), target("k9"));
    let (failed, preparing) = (HashMap::new(), HashSet::new());
    let plan = plan(
        &[],
        &[],
        &Current { joined: HashMap::from([(&gone, (&t, "Volunteer 9"))]), failed: &failed, preparing: &preparing },
        true,
        Instant::now(),
    );
    assert_eq!(plan.leave, [(gone, "Volunteer 9".to_string(), "removed".to_string())]);
}

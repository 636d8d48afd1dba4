use super::*;

fn good_form() -> SignupForm {
    SignupForm {
        display_name: "  Ma   Nithya  ".into(),
        email: "volunteer@example.org".into(),
        youtube: "youtube.com/@MaNithya".into(),
        twitch: String::new(),
        x: "https://twitter.com/ma_nithya".into(),
        facebook: String::new(),
        consent: Some("on".into()),
    }
}

fn with(change: impl FnOnce(&mut SignupForm)) -> SignupForm {
    let mut form = good_form();
    change(&mut form);
    form
}

#[test]
fn a_good_form_is_accepted_trimmed_and_normalised() {
    let valid = validate(&good_form()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(valid.display_name, "Ma Nithya");
    assert_eq!(valid.email, "volunteer@example.org");
    assert_eq!(valid.channels.youtube.as_deref(), Some("https://www.youtube.com/@MaNithya"));
    assert_eq!(valid.channels.x.as_deref(), Some("https://x.com/ma_nithya"));
    assert_eq!((valid.channels.twitch, valid.channels.facebook), (None, None));
}

#[test]
fn names_are_required_and_bounded() {
    for (name, ok) in [("A", true), ("Café Ñandú 🎥", true), ("", false), ("   ", false), ("x\u{7}y", false)] {
        let form = with(|f| f.display_name = name.into());
        assert_eq!(field_error(Field::DisplayName, &form).is_none(), ok, "{name:?}");
    }
    let long = with(|f| f.display_name = "n".repeat(MAX_NAME_CHARS + 1));
    assert!(field_error(Field::DisplayName, &long).is_some_and(|m| m.contains("80 characters")));
    let at_limit = with(|f| f.display_name = "é".repeat(MAX_NAME_CHARS));
    assert_eq!(field_error(Field::DisplayName, &at_limit), None, "characters, not bytes");
}

#[test]
fn email_follows_the_browsers_rule_and_needs_a_real_domain() {
    let good = ["a@b.co", "first.last+tag@sub.example.org", "o'brien@example.ie", " padded@example.org "];
    let bad = [
        "",
        "plain",
        "@example.org",
        "a@",
        "a@localhost",
        "a b@example.org",
        "a@exa mple.org",
        "a@-example.org",
        "a@example-.org",
        "a@@example.org",
        "a@example..org",
        "ünï@example.org",
    ];
    for email in good {
        assert_eq!(field_error(Field::Email, &with(|f| f.email = email.into())), None, "{email}");
    }
    for email in bad {
        assert!(field_error(Field::Email, &with(|f| f.email = email.into())).is_some(), "{email}");
    }
    let long = with(|f| f.email = format!("{}@example.org", "a".repeat(250)));
    assert!(field_error(Field::Email, &long).is_some_and(|m| m.contains("too long")));
    assert_eq!(field_error(Field::Email, &with(|f| f.email.clear())).as_deref(), Some("Enter your e-mail address."));
}

#[test]
fn each_channel_url_must_belong_to_its_platform() {
    let cases: &[(Field, &str, Option<&str>)] = &[
        (Field::Youtube, "https://www.youtube.com/@abc", Some("https://www.youtube.com/@abc")),
        (
            Field::Youtube,
            "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv",
            Some("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv"),
        ),
        (Field::Youtube, "@abc", Some("https://www.youtube.com/@abc")),
        (Field::Youtube, "https://twitch.tv/abc", None),
        (Field::Youtube, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        (Field::Twitch, "twitch.tv/Some_Streamer", Some("https://www.twitch.tv/some_streamer")),
        (Field::Twitch, "https://www.twitch.tv/abc", None),
        (Field::Twitch, "https://www.twitch.tv/name/videos", None),
        (Field::Twitch, "https://youtube.com/@abcd", None),
        (Field::X, "x.com/jack", Some("https://x.com/jack")),
        (Field::X, "https://mobile.twitter.com/a_b", Some("https://x.com/a_b")),
        (Field::X, "https://x.com/home", None),
        (Field::X, "https://x.com/way_too_long_handle_x", None),
        (Field::X, "https://x.com/jack/status/20", None),
        (Field::Facebook, "facebook.com/KailasaOfficial", Some("https://www.facebook.com/KailasaOfficial")),
        (
            Field::Facebook,
            "https://m.facebook.com/profile.php?id=100012345678",
            Some("https://www.facebook.com/profile.php?id=100012345678"),
        ),
        (Field::Facebook, "https://www.facebook.com/profile.php?id=abc", None),
        (Field::Facebook, "https://www.facebook.com/", None),
        (Field::Facebook, "https://facebook.evil.com/page", None),
        (Field::Facebook, "javascript:alert(1)", None),
    ];
    for &(field, input, expected) in cases {
        let mut form = good_form();
        match field {
            Field::Youtube => form.youtube = input.into(),
            Field::Twitch => form.twitch = input.into(),
            Field::X => form.x = input.into(),
            Field::Facebook => form.facebook = input.into(),
            _ => unreachable!("only channel fields are listed"),
        }
        let error = field_error(field, &form);
        assert_eq!(error.is_none(), expected.is_some(), "{field:?} {input}: {error:?}");
        if let Some(normalised) = expected {
            let valid = validate(&form).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            let got = match field {
                Field::Youtube => valid.channels.youtube,
                Field::Twitch => valid.channels.twitch,
                Field::X => valid.channels.x,
                _ => valid.channels.facebook,
            };
            assert_eq!(got.as_deref(), Some(normalised), "{input}");
        }
    }
    let too_long = with(|f| f.twitch = format!("https://www.twitch.tv/{}", "a".repeat(200)));
    assert!(field_error(Field::Twitch, &too_long).is_some_and(|m| m.contains("too long")));
}

#[test]
fn at_least_one_channel_and_consent_are_required() {
    let none = with(|f| {
        f.youtube.clear();
        f.x = "   ".into();
    });
    assert!(field_error(Field::Channels, &none).is_some_and(|m| m.contains("at least one channel")));
    let twitch_only = with(|f| {
        f.youtube.clear();
        f.x.clear();
        f.twitch = "twitch.tv/abcd".into();
    });
    assert_eq!(field_error(Field::Channels, &twitch_only), None);

    let no_consent = with(|f| f.consent = None);
    assert!(field_error(Field::Consent, &no_consent).is_some());
}

#[test]
fn the_whole_form_reports_every_wrong_field_at_once_in_form_order() {
    let form = SignupForm { email: "nope".into(), twitch: "https://twitch.tv/ab".into(), ..SignupForm::default() };
    let errors = validate(&form).err().unwrap_or_default();
    let fields: Vec<Field> = errors.keys().copied().collect();
    assert_eq!(fields, [Field::DisplayName, Field::Email, Field::Twitch, Field::Consent]);
    // The field messages are the same whether asked one by one (browser) or all at once (server).
    for (field, message) in &errors {
        assert_eq!(field_error(*field, &form).as_ref(), Some(message));
    }
}

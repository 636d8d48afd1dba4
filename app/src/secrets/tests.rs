use super::*;

fn key(byte: u8) -> MasterKey {
    MasterKey::from_base64(&BASE64.encode([byte; KEY_LEN])).unwrap_or_else(|e| panic!("test key: {e}"))
}

#[test]
fn secret_never_prints_its_value() {
    let secret = Secret::new("hunter2-token");
    assert_eq!(format!("{secret}"), "***");
    assert_eq!(format!("{secret:?}"), "***");
    assert_eq!(format!("{:?}", Some(&secret)), "Some(***)");
    assert_eq!(secret.expose(), "hunter2-token");
}

#[test]
fn sealed_value_opens_with_the_same_key_and_purpose() {
    let cipher = Cipher::new(&key(7));
    let sealed = cipher.seal(Purpose::AccessToken, b"access-123");
    let opened = cipher.open(Purpose::AccessToken, &sealed).map(|b| b.to_vec());
    assert_eq!(opened.ok(), Some(b"access-123".to_vec()));
}

#[test]
fn each_seal_uses_a_fresh_nonce() {
    let cipher = Cipher::new(&key(7));
    let a = cipher.seal(Purpose::AccessToken, b"same");
    let b = cipher.seal(Purpose::AccessToken, b"same");
    assert_ne!(a, b);
    assert_ne!(a.as_bytes()[5..17], b.as_bytes()[5..17], "nonces differ");
}

#[test]
fn wrong_key_is_refused_by_name_not_garbage() {
    let sealed = Cipher::new(&key(1)).seal(Purpose::RefreshToken, b"refresh");
    let other = Cipher::new(&key(2));
    match other.open(Purpose::RefreshToken, &sealed) {
        Err(SecretsError::WrongKey { sealed_with, configured }) => {
            assert_eq!(sealed_with, key(1).id());
            assert_eq!(configured, key(2).id());
            let message = SecretsError::WrongKey { sealed_with, configured }.to_string();
            assert!(message.contains("FANOUT_SECRET_KEY"), "{message}");
        }
        other => panic!("expected WrongKey, got {other:?}"),
    }
}

#[test]
fn value_sealed_for_one_purpose_does_not_open_as_another() {
    let cipher = Cipher::new(&key(3));
    let sealed = cipher.seal(Purpose::AccessToken, b"token");
    assert!(matches!(cipher.open(Purpose::RefreshToken, &sealed), Err(SecretsError::Damaged)));
}

#[test]
fn altered_or_truncated_values_are_refused() {
    let cipher = Cipher::new(&key(4));
    let sealed = cipher.seal(Purpose::AccessToken, b"token");
    let mut bytes = sealed.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(matches!(cipher.open(Purpose::AccessToken, &Sealed::from_bytes(bytes)), Err(SecretsError::Damaged)));
    let short = Sealed::from_bytes(sealed.as_bytes()[..10].to_vec());
    assert!(matches!(cipher.open(Purpose::AccessToken, &short), Err(SecretsError::Damaged)));
    let mut future = sealed.as_bytes().to_vec();
    future[0] = 9;
    assert!(matches!(cipher.open(Purpose::AccessToken, &Sealed::from_bytes(future)), Err(SecretsError::UnknownFormat(9))));
}

#[test]
fn malformed_configured_keys_get_clear_errors() {
    assert!(matches!(MasterKey::from_base64("not base64 at all!"), Err(SecretsError::KeyNotBase64)));
    let short = BASE64.encode([0u8; 16]);
    match MasterKey::from_base64(&short) {
        Err(e @ SecretsError::KeyWrongLength { len: 16 }) => assert!(e.to_string().contains("exactly 32 bytes")),
        other => panic!("expected KeyWrongLength, got {other:?}"),
    }
    assert!(MasterKey::from_base64(&format!("  {}\n", BASE64.encode([5u8; 32]))).is_ok());
}

#[test]
fn key_file_is_generated_once_with_owner_only_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (first, source) = MasterKey::load_or_create(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join(KEY_FILE_NAME);
    assert_eq!(source, KeySource::Generated(path.clone()));
    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(mode, 0o600);

    let (second, source) = MasterKey::load_or_create(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(source, KeySource::File(path));
    assert_eq!(first.id(), second.id(), "the same key is read back");
}

#[test]
fn configured_key_wins_over_the_key_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let configured = Secret::new(BASE64.encode([9u8; 32]));
    let (key, source) = MasterKey::load_or_create(Some(&configured), dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(source, KeySource::Configured);
    assert_eq!(key.id(), self::key(9).id());
    assert!(!dir.path().join(KEY_FILE_NAME).exists(), "no key file is written when a key is configured");
}

//! Secrets at rest: the server's master key, the AES-256-GCM [`Cipher`] that seals tokens with
//! it, and the [`Secret`] newtype that keeps plaintext out of logs.
//!
//! The master key comes from `FANOUT_SECRET_KEY` (base64 of 32 bytes) or, when that is unset,
//! from `secret.key` in the data directory, generated once with mode 0600. Purpose keys are
//! derived from it with HKDF-SHA256, so one configured key serves encryption and, later, signing.
//!
//! A sealed value is `version (1) ‖ key id (4) ‖ nonce (12) ‖ ciphertext+tag`. The key id lets a
//! wrong key be named as such instead of surfacing as garbage or a bare "decryption failed".

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Length of the master key, in bytes.
pub const KEY_LEN: usize = 32;
/// The file, inside the data directory, that holds a generated master key.
pub const KEY_FILE_NAME: &str = "secret.key";

const FORMAT_VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// What can go wrong with keys and sealed values.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The configured key is not valid base64.
    #[error("the secret key is not valid base64 (expected 32 random bytes, base64-encoded, e.g. from `openssl rand -base64 32`)")]
    KeyNotBase64,
    /// The configured key decodes to the wrong number of bytes.
    #[error("the secret key is {len} bytes long; it must be exactly {KEY_LEN} bytes (base64 of 32 random bytes)")]
    KeyWrongLength {
        /// How many bytes it decoded to.
        len: usize,
    },
    /// The key file could not be read or written.
    #[error("cannot use the key file {path}: {source}")]
    KeyFile {
        /// The key file's path.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A sealed value was sealed with another key.
    #[error(
        "this data was sealed with key {sealed_with}, but the configured key is {configured}: \
         set FANOUT_SECRET_KEY (or restore {KEY_FILE_NAME}) to the key the data was written with"
    )]
    WrongKey {
        /// Id of the key the value was sealed with.
        sealed_with: KeyId,
        /// Id of the key in use.
        configured: KeyId,
    },
    /// A sealed value is of a format this Fanout does not know.
    #[error("sealed data has format version {0}, which this Fanout does not know")]
    UnknownFormat(u8),
    /// A sealed value failed authentication: it was altered or cut short.
    #[error("sealed data is damaged or was altered: it failed authentication")]
    Damaged,
}

/// A secret string (token, password, client secret): the one `Secret` of every Fanout crate.
pub use fanout_secret::Secret;

/// A short, public fingerprint of a master key (hex of 4 HKDF-derived bytes), safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// Where the master key in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `FANOUT_SECRET_KEY`.
    Configured,
    /// An existing key file.
    File(PathBuf),
    /// A key file generated just now.
    Generated(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configured => f.write_str("FANOUT_SECRET_KEY"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Generated(path) => write!(f, "{} (generated now)", path.display()),
        }
    }
}

/// The server's 32-byte master key. Never printed; wiped from memory on drop.
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// Parses a key given as base64 of 32 bytes (surrounding white space ignored).
    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        let bytes = Zeroizing::new(BASE64.decode(text.trim()).map_err(|_| SecretsError::KeyNotBase64)?);
        let array: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| SecretsError::KeyWrongLength { len: bytes.len() })?;
        Ok(Self(Zeroizing::new(array)))
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// The key as base64, for writing the key file.
    fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0.as_ref()))
    }

    /// The key's public fingerprint.
    pub fn id(&self) -> KeyId {
        let mut id = [0u8; KEY_ID_LEN];
        self.derive(b"fanout v1 key id", &mut id);
        KeyId(id)
    }

    /// Derives a purpose key with HKDF-SHA256; `purpose` keeps keys for different jobs apart.
    pub fn derive(&self, purpose: &[u8], out: &mut [u8]) {
        let hkdf = Hkdf::<Sha256>::new(Some(b"fanout"), self.0.as_ref());
        // HKDF-SHA256 can produce up to 8160 bytes; every caller asks for at most 64.
        if hkdf.expand(purpose, out).is_err() {
            unreachable!("HKDF output of {} bytes is within its limit", out.len());
        }
    }

    /// The configured key if there is one; otherwise the data directory's key file, created
    /// (mode 0600) with a fresh key when it does not exist yet.
    pub fn load_or_create(configured: Option<&Secret>, data_dir: &Path) -> Result<(Self, KeySource), SecretsError> {
        if let Some(text) = configured {
            return Ok((Self::from_base64(text.expose())?, KeySource::Configured));
        }
        let path = data_dir.join(KEY_FILE_NAME);
        match Self::read_file(&path)? {
            Some(key) => Ok((key, KeySource::File(path))),
            None => {
                let key = Self::generate();
                key.write_new_file(&path)?;
                Ok((key, KeySource::Generated(path)))
            }
        }
    }

    /// Reads the key file; `None` when it does not exist.
    pub fn read_file(path: &Path) -> Result<Option<Self>, SecretsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                Self::from_base64(&text).map(Some)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SecretsError::KeyFile { path: path.to_path_buf(), source }),
        }
    }

    /// Writes the key to a new file readable by its owner only; refuses to overwrite.
    fn write_new_file(&self, path: &Path) -> Result<(), SecretsError> {
        use std::os::unix::fs::OpenOptionsExt;
        let key_file_error = |source| SecretsError::KeyFile { path: path.to_path_buf(), source };
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(key_file_error)?;
        let text = self.to_base64();
        file.write_all(text.as_bytes()).map_err(key_file_error)?;
        file.write_all(b"\n").map_err(key_file_error)?;
        file.sync_all().map_err(key_file_error)
    }
}

/// An opaque sealed value, as stored. `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// Wraps bytes read back from the store.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

/// What a sealed value is for; bound into its authentication so one cannot stand in for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A Restream access token.
    AccessToken,
    /// A Restream refresh token.
    RefreshToken,
    /// An OAuth PKCE verifier of a sign-up in progress.
    PkceVerifier,
    /// The value that proves the configured key is the store's key.
    KeyCheck,
    /// The stream key of a direct destination.
    StreamKey,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::AccessToken => b"fanout v1 access token",
            Self::RefreshToken => b"fanout v1 refresh token",
            Self::PkceVerifier => b"fanout v1 pkce verifier",
            Self::KeyCheck => b"fanout v1 key check",
            Self::StreamKey => b"fanout v1 stream key",
        }
    }
}

/// Seals and opens secrets with AES-256-GCM under a key derived from the master key.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
    key_id: KeyId,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cipher(key {})", self.key_id)
    }
}

impl Cipher {
    /// A cipher for the given master key.
    pub fn new(master: &MasterKey) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        master.derive(b"fanout v1 aes-256-gcm", key.as_mut());
        Self { aead: Aes256Gcm::new(key.as_ref().into()), key_id: master.id() }
    }

    /// The fingerprint of the master key in use.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Seals `plaintext` for `purpose` with a fresh random nonce.
    pub fn seal(&self, purpose: Purpose, plaintext: &[u8]) -> Sealed {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let payload = Payload { msg: plaintext, aad: purpose.label() };
        let Ok(ciphertext) = self.aead.encrypt(Nonce::from_slice(&nonce), payload) else {
            unreachable!("AES-GCM encryption fails only for messages over 64 GiB");
        };
        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.key_id.0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Sealed(out)
    }

    /// Opens a value sealed for `purpose`; a value sealed with another key is named as such.
    pub fn open(&self, purpose: Purpose, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        let bytes = sealed.as_bytes();
        if bytes.len() < HEADER_LEN {
            return Err(SecretsError::Damaged);
        }
        let (version, rest) = (bytes[0], &bytes[1..]);
        if version != FORMAT_VERSION {
            return Err(SecretsError::UnknownFormat(version));
        }
        let (key_id, rest) = rest.split_at(KEY_ID_LEN);
        if key_id != self.key_id.0 {
            let mut sealed_with = [0u8; KEY_ID_LEN];
            sealed_with.copy_from_slice(key_id);
            return Err(SecretsError::WrongKey { sealed_with: KeyId(sealed_with), configured: self.key_id });
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: purpose.label() })
            .map(Zeroizing::new)
            .map_err(|_| SecretsError::Damaged)
    }

    /// Seals a secret string.
    pub fn seal_secret(&self, purpose: Purpose, secret: &Secret) -> Sealed {
        self.seal(purpose, secret.expose().as_bytes())
    }

    /// Opens a sealed secret string.
    pub fn open_secret(&self, purpose: Purpose, sealed: &Sealed) -> Result<Secret, SecretsError> {
        let bytes = self.open(purpose, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretsError::Damaged)?;
        Ok(Secret::new(text))
    }
}

#[cfg(test)]
mod tests;

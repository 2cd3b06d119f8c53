//! The checksums and the text encoding of the frames, from well-kept
//! crates; this module pins the variants the format uses.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Standard alphabet with `=` padding, written and required, and no stray
/// bits: the decoder takes only what the encoder writes, so no two texts
/// decode alike.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// CRC-32 (IEEE 802.3, the one of zlib and `crc32(1)`).
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// SHA-256 of `data` as 64 lowercase hex digits (the format of `sha256sum`).
pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// Standard base64 with `=` padding (RFC 4648), appended to `out`.
pub fn base64_encode(data: &[u8], out: &mut String) {
    BASE64.encode_string(data, out);
}

/// Strict inverse of [`base64_encode`]: `None` on any character or padding
/// the encoder would not have produced.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    BASE64.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn sha256_matches_fips_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            sha256_hex(&million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors_and_round_trips() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            base64_encode(plain.as_bytes(), &mut s);
            assert_eq!(s, coded);
            assert_eq!(base64_decode(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut s = String::new();
        base64_encode(&all, &mut s);
        assert_eq!(base64_decode(s.as_bytes()).unwrap(), all);
    }

    #[test]
    fn base64_rejects_what_the_encoder_never_writes() {
        for bad in [
            "Zg=",
            "Zg===",
            "Z===",
            "Zh==",
            "Zm9v Yg==",
            "Zg==Zm9v",
            "Zm9\r",
        ] {
            assert_eq!(base64_decode(bad.as_bytes()), None, "{bad}");
        }
    }
}

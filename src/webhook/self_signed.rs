//! `--self-signed`: a throw-away CA and a serving certificate it signs, for local
//! development and tests. The CA's PEM is what a ValidatingWebhookConfiguration's
//! `clientConfig.caBundle` needs (base64-encoded).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Generated PEM material.
#[derive(Clone, Debug)]
pub struct SelfSigned {
    /// The CA certificate (trust anchor for clients).
    pub ca_pem: String,
    /// The serving certificate followed by the CA (the chain the server presents).
    pub chain_pem: String,
    pub key_pem: String,
}

impl SelfSigned {
    /// `clientConfig.caBundle`: the CA PEM, base64-encoded.
    pub fn ca_bundle(&self) -> String {
        base64(self.ca_pem.as_bytes())
    }
}

/// Generates a CA and a serving certificate for `localhost`, `127.0.0.1`, `::1` and
/// `extra_sans` (DNS names or IP addresses), valid for a year.
pub fn generate(extra_sans: &[String]) -> Result<SelfSigned, String> {
    let err = |e: rcgen::Error| format!("cannot generate a self-signed certificate: {e}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    // From a day ago (clock skew) to a year from now.
    let day = |offset_days: i64| {
        let (y, m, d) = civil_from_days(now.div_euclid(86_400) + offset_days);
        rcgen::date_time_ymd(y, m, d)
    };

    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.distinguished_name = name("Stance webhook development CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    (ca.not_before, ca.not_after) = (day(-1), day(365));
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut sans = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    for s in extra_sans {
        if !sans.contains(s) {
            sans.push(s.clone());
        }
    }
    let key = KeyPair::generate().map_err(err)?;
    let mut leaf = CertificateParams::new(sans).map_err(err)?;
    leaf.distinguished_name = name("stance-webhook");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (leaf.not_before, leaf.not_after) = (day(-1), day(365));
    let cert = leaf.signed_by(&key, &issuer).map_err(err)?;

    let ca_pem = ca_cert.pem();
    Ok(SelfSigned { chain_pem: format!("{}{}", cert.pem(), ca_pem), ca_pem, key_pem: key.serialize_pem() })
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Stance");
    dn
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    ((if m <= 2 { y + 1 } else { y }) as i32, m as u8, d as u8)
}

/// Standard base64 with padding (RFC 4648), for `caBundle`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn generated_chain_is_served_by_rustls() {
        let s = generate(&["stance-webhook.stance-system.svc".into()]).unwrap();
        assert!(s.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(s.chain_pem.matches("BEGIN CERTIFICATE").count(), 2);
        super::super::tls::certified_key(s.chain_pem.as_bytes(), s.key_pem.as_bytes()).unwrap();
        assert!(!s.ca_bundle().contains('\n'));
    }
}

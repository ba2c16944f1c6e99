//! `--self-signed`: a throw-away CA and a serving certificate it signs, for local
//! development and tests. The CA's PEM is what a ValidatingWebhookConfiguration's
//! `clientConfig.caBundle` needs (base64-encoded).

use base64::Engine;
use jiff::{Timestamp, ToSpan, tz::TimeZone};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The certificate could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SelfSignedError {
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot compute the certificate's validity dates: {0}")]
    Date(#[from] jiff::Error),
}

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
pub fn generate(extra_sans: &[String]) -> Result<SelfSigned, SelfSignedError> {
    let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
    let ymd = |d: jiff::civil::Date| rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8);
    // From a day ago (clock skew) to a year from now.
    let (not_before, not_after) = (ymd(today.checked_sub(1.day())?), ymd(today.checked_add(365.days())?));

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name = name("Stance webhook development CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    (ca.not_before, ca.not_after) = (not_before, not_after);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut sans = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    for s in extra_sans {
        if !sans.contains(s) {
            sans.push(s.clone());
        }
    }
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(sans)?;
    leaf.distinguished_name = name("stance-webhook");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (leaf.not_before, leaf.not_after) = (not_before, not_after);
    let cert = leaf.signed_by(&key, &issuer)?;

    let ca_pem = ca_cert.pem();
    Ok(SelfSigned { chain_pem: format!("{}{}", cert.pem(), ca_pem), ca_pem, key_pem: key.serialize_pem() })
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Stance");
    dn
}

/// Standard base64 with padding (RFC 4648), for `caBundle`.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
    fn generated_chain_is_served_by_rustls() {
        let s = generate(&["stance-webhook.stance-system.svc".into()]).unwrap();
        assert!(s.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(s.chain_pem.matches("BEGIN CERTIFICATE").count(), 2);
        super::super::tls::certified_key(s.chain_pem.as_bytes(), s.key_pem.as_bytes()).unwrap();
        assert!(!s.ca_bundle().contains('\n'));
    }
}

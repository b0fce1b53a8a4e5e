//! Request signers for the providers, as pure functions: canonical request building
//! and signing take strings and bytes and return strings. No clock, no network: the
//! callers pass the timestamp and nonce in, so every function here is pinned to the
//! providers' published vectors in the unit tests below
//! (`tests/fixtures/signatures.md`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Raw HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 percent-encoding: `A-Za-z0-9-_.~` kept, everything else `%XX` (upper
/// case), space as `%20`, as Aliyun V3 wants it.
pub fn percent_encode(s: &str) -> String {
    // urlencoding keeps exactly the RFC 3986 unreserved set and writes upper-case hex.
    urlencoding::encode(s).into_owned()
}

/// `k=v&k=v` with keys and values percent-encoded and sorted by encoded key (then value).
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut enc: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    enc.sort();
    enc.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Generic HMAC-signed webhook: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body))
    )
}

// ---------------------------------------------------------------- Aliyun V3

/// An Aliyun ACS3 canonical request and the `SignedHeaders` list that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub request: String,
    pub signed_headers: String,
}

/// Aliyun V3 canonical request. `headers` are the headers to sign (`host`, every
/// `x-acs-*`, `content-type` when present); names are lower-cased, values trimmed,
/// sorted by name. `query` is the already canonical query (see [`canonical_query`]).
pub fn aliyun_v3_canonical(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body_sha256_hex: &str,
) -> Canonical {
    let hs = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    canonical_request(method, path, query, hs, body_sha256_hex)
}

/// The canonical request both providers define: method, path, query, the signed
/// headers sorted by name as `name:value` lines, their names joined with `;`, and
/// the hex SHA-256 of the body.
fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    mut headers: Vec<(String, String)>,
    body_sha256_hex: &str,
) -> Canonical {
    headers.sort();
    let mut request = format!("{method}\n{path}\n{query}\n");
    for (k, v) in &headers {
        request.push_str(&format!("{k}:{v}\n"));
    }
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    request.push_str(&format!("\n{signed_headers}\n{body_sha256_hex}"));
    Canonical {
        request,
        signed_headers,
    }
}

/// Aliyun V3 signature (hex) of a canonical request.
pub fn aliyun_v3_signature(secret: &str, canonical_request: &str) -> String {
    let to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    hex::encode(hmac_sha256(secret.as_bytes(), to_sign.as_bytes()))
}

/// The `Authorization` header value for Aliyun V3.
pub fn aliyun_v3_authorization(
    access_key_id: &str,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
}

// ---------------------------------------------------------------- Tencent TC3

/// Tencent TC3 canonical request. `headers` are the signed headers (lower-cased
/// names, sorted here); `query` is the canonical query string (empty for POST).
pub fn tencent_tc3_canonical(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Canonical {
    let hs = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        .collect();
    canonical_request(method, path, query, hs, &sha256_hex(body))
}

/// Tencent TC3 string to sign: algorithm, timestamp, credential scope, hash.
pub fn tencent_tc3_string_to_sign(
    timestamp: i64,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Tencent TC3 signature (hex): the derived key chain, then HMAC of the string to sign.
pub fn tencent_tc3_signature(
    secret_key: &str,
    date: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k1 = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k2 = hmac_sha256(&k1, service.as_bytes());
    let k3 = hmac_sha256(&k2, b"tc3_request");
    hex::encode(hmac_sha256(&k3, string_to_sign.as_bytes()))
}

/// The `Authorization` header value for TC3.
pub fn tencent_tc3_authorization(
    secret_id: &str,
    date: &str,
    service: &str,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

// ---------------------------------------------------------------- robots

/// DingTalk custom robot: base64(HMAC-SHA256(secret, "<ms>\n<secret>")), not yet
/// URL-encoded.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let msg = format!("{timestamp_ms}\n{secret}");
    BASE64.encode(hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

/// Feishu custom bot: base64(HMAC-SHA256(key = "<s>\n<secret>", message = empty)).
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    BASE64.encode(hmac_sha256(key.as_bytes(), b""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn aliyun_v3_published_example() {
        let query = canonical_query(&[
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ]);
        assert_eq!(
            query,
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        );
        assert_eq!(sha256_hex(b""), EMPTY_SHA256);
        let c = aliyun_v3_canonical(
            "POST",
            "/",
            &query,
            &[
                ("x-acs-version", "2014-05-26"),
                ("host", "ecs.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", "RunInstances"),
                ("x-acs-content-sha256", EMPTY_SHA256),
                ("x-acs-date", "2023-10-26T10:22:32Z"),
                ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ],
            EMPTY_SHA256,
        );
        assert_eq!(
            c.signed_headers,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(
            sha256_hex(c.request.as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        let sig = aliyun_v3_signature("YourAccessKeySecret", &c.request);
        assert_eq!(
            sig,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            aliyun_v3_authorization("YourAccessKeyId", &c.signed_headers, &sig),
            format!(
                "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={},Signature={sig}",
                c.signed_headers
            )
        );
    }

    #[test]
    fn percent_encoding_is_rfc3986() {
        assert_eq!(percent_encode("a b*~/+"), "a%20b%2A~%2F%2B");
        assert_eq!(percent_encode("张"), "%E5%BC%A0");
    }

    #[test]
    fn tencent_tc3_published_example() {
        let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let c = tencent_tc3_canonical(
            "POST",
            "/",
            "",
            &[
                ("Host", "cvm.tencentcloudapi.com"),
                ("Content-Type", "application/json; charset=utf-8"),
            ],
            body,
        );
        assert_eq!(c.signed_headers, "content-type;host");
        assert_eq!(
            sha256_hex(c.request.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let sts = tencent_tc3_string_to_sign(1551113065, "2019-02-25", "cvm", &c.request);
        let sig = tencent_tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "2019-02-25",
            "cvm",
            &sts,
        );
        assert_eq!(
            sig,
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn dingtalk_vector() {
        let s = dingtalk_sign("SECtest", 1_700_000_000_000);
        assert_eq!(s, "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=");
        assert_eq!(
            urlencoding::encode(&s),
            "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
        );
    }

    #[test]
    fn feishu_vectors() {
        assert_eq!(
            feishu_sign("SECtest", 1_700_000_000),
            "G7XpBpG8NgG02fJOAhX6FRAObIljmFoxVReo8I62pEk="
        );
        assert_eq!(
            feishu_sign("demo", 100),
            "jquNHnVOwmDRfw+vqTIrY5dooJAgi5EcRtLsQE4wfXg="
        );
    }

    #[test]
    fn webhook_signature_is_hex_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            webhook_signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

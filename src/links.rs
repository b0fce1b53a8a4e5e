//! Links in messages: an acknowledgement link (`/a/{token}`) answers one occasion,
//! a worklist link (`/s/{token}`) opens a staff member's own page. A token is 128
//! random bits in URL-safe base64 (22 characters), so a link with a 30-character
//! host stays under 60 characters and fits an SMS template variable. Only the
//! token's SHA-256 is stored. Pure: no I/O.

use base64::Engine as _;
use chrono::NaiveDate;
use sha2::Digest as _;

/// What a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// One occasion, for its assigned staff member.
    Ack,
    /// A staff member's worklist, team section and calendar feed.
    Worklist,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Ack => "ack",
            LinkKind::Worklist => "worklist",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        match s {
            "ack" => Some(LinkKind::Ack),
            "worklist" => Some(LinkKind::Worklist),
            _ => None,
        }
    }

    /// The path segment: `a` or `s`.
    pub fn segment(self) -> &'static str {
        match self {
            LinkKind::Ack => "a",
            LinkKind::Worklist => "s",
        }
    }
}

/// A link to store: the token's hash and what it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub token_hash: String,
    pub kind: LinkKind,
    pub staff_number: String,
    /// The occasion an acknowledgement link answers.
    pub occasion_key: Option<String>,
    /// The last day the link works.
    pub expires_on: NaiveDate,
}

/// A stored link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: i64,
    pub link: NewLink,
    pub revoked: bool,
}

impl Link {
    /// Whether the link still opens its page on `today`.
    pub fn works_on(&self, today: NaiveDate) -> bool {
        !self.revoked && today <= self.link.expires_on
    }
}

/// A fresh token: 128 random bits, URL-safe base64 without padding.
pub fn mint_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<u128>().to_le_bytes())
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape of a minted token (checked before any lookup).
pub fn plausible_token(token: &str) -> bool {
    token.len() == 22
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `{base}/{a|s}/{token}`.
pub fn url(base: &str, kind: LinkKind, token: &str) -> String {
    format!("{base}/{}/{token}", kind.segment())
}

/// A link minted for `staff`: the URL to print and the row to store.
pub fn mint(
    base: &str,
    kind: LinkKind,
    staff: &str,
    occasion_key: Option<&str>,
    expires_on: NaiveDate,
) -> (String, NewLink) {
    let token = mint_token();
    let row = NewLink {
        token_hash: token_hash(&token),
        kind,
        staff_number: staff.to_string(),
        occasion_key: occasion_key.map(str::to_string),
        expires_on,
    };
    (url(base, kind, &token), row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_short_in_a_link() {
        let a = mint_token();
        let b = mint_token();
        assert_ne!(a, b);
        assert!(plausible_token(&a), "{a}");
        let host = "https://qinqing.example.gov.cn"; // 30 characters
        assert_eq!(host.len(), 30);
        assert!(url(host, LinkKind::Worklist, &a).len() <= 60);
        assert!(url(host, LinkKind::Ack, &a).len() <= 60);
    }

    #[test]
    fn only_the_hash_is_kept_and_it_is_not_the_token() {
        let (url, row) = mint(
            "https://x.example",
            LinkKind::Ack,
            "S001",
            Some("k"),
            "2026-10-01".parse().unwrap(),
        );
        let token = url.rsplit('/').next().unwrap();
        assert_eq!(row.token_hash, token_hash(token));
        assert!(!row.token_hash.contains(token));
        assert!(!plausible_token("../../etc/passwd"));
        assert!(!plausible_token(&row.token_hash));
    }

    #[test]
    fn a_link_works_until_its_last_day_unless_revoked() {
        let mut l = Link {
            id: 1,
            link: NewLink {
                token_hash: String::new(),
                kind: LinkKind::Worklist,
                staff_number: "S001".into(),
                occasion_key: None,
                expires_on: "2026-10-01".parse().unwrap(),
            },
            revoked: false,
        };
        assert!(l.works_on("2026-10-01".parse().unwrap()));
        assert!(!l.works_on("2026-10-02".parse().unwrap()));
        l.revoked = true;
        assert!(!l.works_on("2026-09-01".parse().unwrap()));
    }
}

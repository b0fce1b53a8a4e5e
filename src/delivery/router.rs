//! Routing: which channel a reminder goes out on. The recipient's 提醒方式 order comes
//! first (limited to the rule's `channels` when it names any); channels already
//! failed for good are skipped; when the order is exhausted, any other configured
//! channel that can reach the recipient is the last resort, so nothing is dropped
//! while some channel still works. Pure.

/// `configured`: every configured channel, in configuration order, with whether it
/// can reach this recipient.
pub fn choose<'a>(
    staff_order: &[String],
    rule_channels: &[String],
    failed: &[String],
    configured: &[(&'a str, bool)],
) -> Option<&'a str> {
    let usable = |name: &str| {
        !failed.iter().any(|f| f == name) && configured.iter().any(|(n, ok)| *n == name && *ok)
    };
    let allowed = |name: &str| rule_channels.is_empty() || rule_channels.iter().any(|c| c == name);
    for name in staff_order {
        if allowed(name) && usable(name) {
            return configured.iter().find(|(n, _)| n == name).map(|(n, _)| *n);
        }
    }
    configured.iter().find(|(n, _)| usable(n)).map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_order_then_fallback() {
        let configured = [("console", true), ("email", true), ("sms", false)];
        let order = vec!["sms".to_string(), "email".to_string()];
        assert_eq!(choose(&order, &[], &[], &configured), Some("email"));
        assert_eq!(
            choose(&order, &[], &["email".into()], &configured),
            Some("console")
        );
        assert_eq!(
            choose(
                &order,
                &[],
                &["email".into(), "console".into()],
                &configured
            ),
            None
        );
    }

    #[test]
    fn rule_channels_limit_the_order() {
        let configured = [("sms", true), ("email", true)];
        let order = vec!["sms".to_string(), "email".to_string()];
        assert_eq!(
            choose(&order, &["email".into()], &[], &configured),
            Some("email")
        );
    }
}

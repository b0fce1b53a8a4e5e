//! Throttling that knows its window: a provider's day-level limit (Aliyun
//! `isv.BUSINESS_LIMIT_CONTROL` 天级流控) defers that SMS to the next working day's
//! send window instead of burning the retries, and the bureau's own
//! `[channels.sms] daily_limit` holds the excess to the next day; `status` says so.
//! Monday 2026-06-01: the month's calls go to S002 and S003 by SMS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::daemon_support::*;
use crate::support::*;

const AT: &str = "2026-06-01T08:40:00+08:00";
const LATER: &str = "2026-06-01T15:00:00+08:00";
const NEXT: &str = "2026-06-02T08:40:00+08:00";

fn sms(sink: &Sink, extra: &str) -> String {
    format!(
        "[channels.sms]\nprovider = \"aliyun\"\nendpoint = \"http://{}/\"\naccess_key_id = \"LTAI-test\"\n\
         access_key_secret = \"s\"\nsign_name = \"某区委老干部局\"\ntimeout_secs = 2\n{extra}\n\
         [channels.sms.templates.digest]\ncode = \"SMS_100\"\nparams = [\"name\", \"count\"]\n\
         [channels.sms.templates.urgent]\ncode = \"SMS_200\"\nparams = [\"name\", \"reference\"]\n\
         [channels.sms.templates.test]\ncode = \"SMS_300\"\nparams = []\n",
        sink.addr
    )
}

fn aliyun_ok() -> Reply {
    Reply::Status(
        200,
        vec![],
        json!({"Code": "OK", "Message": "OK", "BizId": "1^0", "RequestId": "R"}).to_string(),
    )
}

#[test]
fn a_day_level_limit_defers_to_the_next_working_day() {
    for db in backends() {
        let refused = Arc::new(AtomicUsize::new(0));
        let r2 = refused.clone();
        // The first two sends hit the number's daily quota; later ones go through.
        let sink = Sink::start(move |_, _| {
            if r2.fetch_add(1, Ordering::SeqCst) < 2 {
                Reply::Status(
                    200,
                    vec![],
                    json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10", "RequestId": "R"})
                        .to_string(),
                )
            } else {
                aliyun_ok()
            }
        });
        let s = Setup::new(db, &roster(6, "短信"), "", &sms(&sink, ""));
        s.once(AT);
        let label = s.label();
        assert_eq!(sink.count(), 2, "[{label}] one try per digest");
        let st = s.status();
        assert_eq!(deliveries(&st, "deferred"), 6, "[{label}] {st:#}");
        assert_eq!(deliveries(&st, "failed"), 0, "[{label}] {st:#}");
        let f = &st["failures"][0];
        assert!(f["last_error"].as_str().unwrap().contains("天级"), "{f:#}");
        // Later the same day: nothing is tried again.
        s.once(LATER);
        assert_eq!(sink.count(), 2, "[{label}] waits for the next working day");
        // The next working day's window: sent.
        s.once(NEXT);
        assert_eq!(sink.count(), 4, "[{label}]");
        let st = s.status();
        assert_eq!(deliveries(&st, "deferred"), 0, "[{label}] {st:#}");
        assert_eq!(deliveries(&st, "sent"), 6, "[{label}] {st:#}");
    }
}

#[test]
fn the_bureaus_daily_limit_holds_the_excess_to_the_next_day() {
    for db in backends() {
        let sink = Sink::start(|_, _| aliyun_ok());
        let s = Setup::new(db, &roster(6, "短信"), "", &sms(&sink, "daily_limit = 1"));
        s.once(AT);
        let label = s.label();
        assert_eq!(sink.count(), 1, "[{label}] one SMS today");
        let st = s.status();
        assert_eq!(deliveries(&st, "sent"), 3, "[{label}] {st:#}");
        assert_eq!(deliveries(&st, "deferred"), 3, "[{label}] {st:#}");
        let text = s.cmd(LATER).arg("status").run().ok().stdout;
        assert!(
            text.contains("3 deferred by a sending limit"),
            "[{label}] {text}"
        );
        assert!(text.contains("daily_limit = 1"), "[{label}] {text}");
        s.once(LATER);
        assert_eq!(sink.count(), 1, "[{label}] still one today");
        s.once(NEXT);
        assert_eq!(sink.count(), 2, "[{label}] the rest the next day");
    }
}

//! Sending one test message to a staff member on one channel (`qinqing test-send`),
//! to prove a channel's configuration before the first real digest.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use super::Context;
use crate::delivery::channels::{self, Channel, MessageKind, Outgoing, Section, SmsFields};
use crate::delivery::digest;

/// Sends the test message; returns the provider's message id, if it gave one.
pub async fn test_send(
    ctx: &Context,
    staff_no: &str,
    channel_name: &str,
) -> Result<Option<String>> {
    let chans = channels::build(&ctx.config.channels, ctx.clock.clone())
        .map_err(|e| anyhow::anyhow!("channel configuration: {e}"))?;
    let Some(channel): Option<&Arc<dyn Channel>> = chans.iter().find(|c| c.name() == channel_name)
    else {
        let names: Vec<&str> = chans.iter().map(|c| c.name()).collect();
        bail!(
            "--channel {channel_name}: not configured (configured: {})",
            names.join(", ")
        );
    };
    let store = ctx.store().await?;
    let staff = store
        .staff_list()
        .await?
        .into_iter()
        .find(|s| s.number == staff_no)
        .with_context(|| format!("--staff: no staff member with 工号 {staff_no}"))?;
    let addressee = digest::addressee(&staff);
    if !channel.can_reach(&addressee) {
        bail!(
            "{staff_no} has no address for channel {channel_name} (check 手机/邮箱 in the staff sheet)"
        );
    }
    let now = ctx.clock.now();
    let msg = Outgoing {
        idempotency_key: format!("qq-test-{staff_no}-{}", now.timestamp()),
        subject: "亲情服务提醒测试".into(),
        sections: vec![Section {
            addressee,
            lines: vec!["这是一条测试消息,收到即说明提醒渠道工作正常。".into()],
            greeting: format!("{}同志:", staff.name),
            ..Default::default()
        }],
        sms: SmsFields {
            name: staff.name.clone(),
            count: 0,
            reference: "TEST".into(),
            date: now.format("%m月%d日").to_string(),
            ..Default::default()
        },
        kind: MessageKind::Test,
    };
    match channel.send(&msg).await {
        Ok(r) => Ok(r.provider_id),
        Err(e) => bail!("test message to {staff_no} via {channel_name} failed: {e}"),
    }
}

//! The pages, server-rendered HTML in Chinese for a 360-px phone: large text, no
//! script, one stylesheet from this server. Every value is escaped.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use crate::html::escape;
use crate::ledger::{Contact, Outcome};
use crate::service::answer::{AckPage, Answer, OccasionView, Recorded};
use crate::service::worklist::{WorkItem, Worklist};

pub const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif;\
font-size:18px;line-height:1.6;color:#222;background:#f6f6f4}\
main{max-width:640px;margin:0 auto;padding:12px}\
h1{font-size:22px;margin:8px 0 12px}h2{font-size:19px;margin:20px 0 8px;border-left:4px solid #b71c1c;padding-left:8px}\
.card{background:#fff;border-radius:10px;padding:12px 14px;margin:10px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}\
.card.overdue{border-left:6px solid #c62828}.card.done{border-left:6px solid #2e7d32}\
.muted{color:#666;font-size:16px}.tag{display:inline-block;font-size:14px;padding:0 6px;border-radius:4px;\
background:#c62828;color:#fff;margin-left:4px}.tag.ok{background:#2e7d32}.tag.warn{background:#ef6c00}\
a{color:#0d47a1}a.tel{font-size:20px}\
form{margin:8px 0 0}.buttons{display:flex;flex-wrap:wrap;gap:8px}\
button{font-size:18px;padding:10px 14px;border:0;border-radius:8px;background:#b71c1c;color:#fff;min-width:44%}\
button.plain{background:#546e7a}\
input,textarea{font-size:18px;width:100%;padding:8px;border:1px solid #bbb;border-radius:6px}\
label{display:block;margin:6px 0 2px;font-size:16px;color:#444}\
table{width:100%;border-collapse:collapse;font-size:16px}td,th{padding:6px 4px;border-bottom:1px solid #eee;text-align:left}\
.error{background:#ffebee;color:#b71c1c;padding:10px;border-radius:8px}\
.notice{background:#e8f5e9;color:#1b5e20;padding:10px;border-radius:8px}";

fn md(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/static/qinqing.css\"></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn verb(kind: &str) -> &'static str {
    crate::delivery::digest::verb(kind)
}

/// "已走访" etc. for a recorded contact.
fn contact_text(c: &Contact) -> String {
    let what = match (c.entry.outcome, c.entry.kind.as_str()) {
        (Outcome::NotDone, _) => "未能完成",
        (_, "call") => "已电话联系",
        (_, "deliver") => "已送达",
        _ => "已走访",
    };
    let mut s = format!(
        "{what}({},{}记录",
        md(c.entry.on),
        escape(c.entry.staff_number.as_deref().unwrap_or("")),
    );
    if let Ok(t) = DateTime::parse_from_rfc3339(&c.recorded_at) {
        let t: DateTime<FixedOffset> = t.with_timezone(&crate::clock::china());
        s.push_str(&format!("于{}", t.format("%m月%d日 %H:%M")));
    }
    s.push(')');
    if let Some(n) = &c.entry.note {
        s.push_str(&format!(":{}", escape(n)));
    }
    s
}

/// The answer form: the four buttons, the day and a note. `action` is where it posts.
fn answer_form(action: &str, today: NaiveDate, kind: &str, compact: bool) -> String {
    let mut buttons = String::new();
    // The occasion's own kind first.
    let mut order: Vec<Answer> = Answer::ALL.to_vec();
    let first = match kind {
        "call" => Answer::Called,
        "deliver" => Answer::Delivered,
        _ => Answer::Visited,
    };
    order.retain(|a| *a != first);
    order.insert(0, first);
    for a in order {
        let class = if a == Answer::NotDone {
            " class=\"plain\""
        } else {
            ""
        };
        buttons.push_str(&format!(
            "<button type=\"submit\" name=\"outcome\" value=\"{}\"{class}>{}</button>",
            a.as_str(),
            a.label()
        ));
    }
    let extra = if compact {
        format!("<input type=\"hidden\" name=\"on\" value=\"{today}\">")
    } else {
        format!(
            "<label for=\"on\">完成日期(可补录30天内)</label>\
             <input type=\"date\" id=\"on\" name=\"on\" value=\"{today}\" max=\"{today}\">\
             <label for=\"note\">备注(选“未能完成”时请写原因)</label>\
             <textarea id=\"note\" name=\"note\" rows=\"2\" maxlength=\"500\"></textarea>"
        )
    };
    format!(
        "<form method=\"post\" action=\"{}\">{extra}<div class=\"buttons\">{buttons}</div></form>",
        escape(action)
    )
}

fn occasion_head(o: &OccasionView, today: NaiveDate) -> String {
    let mut s = format!(
        "<h1>{}</h1><p>{}({})<br>请于<strong>{}</strong>前{}",
        escape(&o.person.name),
        escape(&o.title),
        md(o.occasion_on),
        md(o.due_on),
        verb(&o.kind)
    );
    if o.due_on < today {
        s.push_str("<span class=\"tag\">已逾期</span>");
    }
    if o.urgent {
        s.push_str("<span class=\"tag warn\">紧急</span>");
    }
    s.push_str(&format!(
        "<br><span class=\"muted\">提醒编号 {} · 编号 {}</span></p>",
        escape(&o.reference),
        escape(&o.person.label())
    ));
    s
}

/// The acknowledgement page. `message`: what a POST did or why it was refused.
pub fn ack_page(
    p: &AckPage,
    action: &str,
    today: NaiveDate,
    message: Option<(bool, String)>,
) -> String {
    let o = &p.occasion;
    let mut body = String::new();
    if let Some((ok, text)) = &message {
        let class = if *ok { "notice" } else { "error" };
        body.push_str(&format!("<p class=\"{class}\">{text}</p>"));
    }
    body.push_str("<div class=\"card\">");
    body.push_str(&occasion_head(o, today));
    if let Some(phone) = o.person.phone.as_deref().filter(|p| !p.is_empty()) {
        body.push_str(&format!(
            "<p>电话:<a class=\"tel\" href=\"tel:{}\">{}</a></p>",
            escape(phone),
            escape(phone)
        ));
    }
    if let Some(addr) = o.person.address.as_deref().filter(|a| !a.is_empty()) {
        body.push_str(&format!("<p>住址:{}</p>", escape(addr)));
    }
    body.push_str("</div>");
    match &p.done {
        Some(c) => body.push_str(&format!(
            "<div class=\"card done\"><strong>已办结</strong><br>{}</div>",
            contact_text(c)
        )),
        None => {
            body.push_str("<div class=\"card\">");
            body.push_str(&answer_form(action, today, &o.kind, false));
            body.push_str("</div>");
        }
    }
    for a in &p.attempts {
        body.push_str(&format!("<p class=\"muted\">{}</p>", contact_text(a)));
    }
    layout(&format!("{} · 亲情服务", o.person.name), &body)
}

/// What a POST recorded, said in one line.
pub fn recorded_text(r: &Recorded) -> (bool, String) {
    match r {
        Recorded::Done(c) => (true, format!("已记录:{}", contact_text(c))),
        Recorded::Attempt(c) => (
            true,
            format!("已记录未能完成的原因,此项仍待办:{}", contact_text(c)),
        ),
        Recorded::Already(c) => (
            true,
            format!("此项此前已办结,未重复记录:{}", contact_text(c)),
        ),
    }
}

pub fn expired_page(worklist_hint: bool) -> String {
    let hint = if worklist_hint {
        "请打开最近一条提醒消息中的“我的工作清单”链接,在清单中确认。"
    } else {
        "请使用最近一条提醒消息中的新链接,或联系管理员重新发送。"
    };
    layout(
        "链接已过期",
        &format!("<div class=\"card\"><h1>链接已过期</h1><p>{hint}</p></div>"),
    )
}

pub fn not_found_page() -> String {
    layout(
        "未找到",
        "<div class=\"card\"><h1>未找到</h1><p>链接无效。</p></div>",
    )
}

pub fn gone_page() -> String {
    layout(
        "提醒已不存在",
        "<div class=\"card\"><h1>提醒已不存在</h1><p>这项提醒已取消或尚未开始。</p></div>",
    )
}

/// The title without the person's name in front (the page shows the name once).
pub(super) fn without_name<'a>(title: &'a str, name: &str) -> &'a str {
    title
        .strip_prefix(name)
        .map(str::trim_start)
        .unwrap_or(title)
}

fn item_card(i: &WorkItem, base: &str, today: NaiveDate, with_staff: bool) -> String {
    let o = &i.occasion;
    let class = if i.overdue { "card overdue" } else { "card" };
    let mut s = format!("<div class=\"{class}\" id=\"o-{}\">", escape(&o.reference));
    s.push_str(&format!(
        "<strong>{}</strong> {}({})<br>请于{}前{}",
        escape(&o.person.name),
        escape(without_name(&o.title, &o.person.name)),
        md(o.occasion_on),
        md(o.due_on),
        verb(&o.kind)
    ));
    if i.overdue {
        s.push_str("<span class=\"tag\">已逾期</span>");
    }
    if let Some(reason) = &i.paused {
        s.push_str(&format!(
            "<span class=\"tag warn\">暂停提醒:{}</span>",
            escape(reason)
        ));
    }
    if let Some(away) = &i.covering_for {
        s.push_str(&format!(
            "<br><span class=\"muted\">代 {} 办理</span>",
            escape(away)
        ));
    }
    if with_staff {
        s.push_str(&format!(
            "<br><span class=\"muted\">负责人:{}</span>",
            escape(&o.staff)
        ));
    }
    s.push_str(&format!(
        "<br><span class=\"muted\">提醒编号 {}</span>",
        escape(&o.reference)
    ));
    if !with_staff {
        s.push_str(&answer_form(
            &format!("{base}/o/{}", o.reference),
            today,
            &o.kind,
            true,
        ));
    }
    s.push_str("</div>");
    s
}

/// The worklist page; `base` is the page's own path (`/s/{token}`).
pub fn worklist_page(w: &Worklist, base: &str, message: Option<(bool, String)>) -> String {
    let today = w.as_of;
    let mut body = format!(
        "<h1>{}同志的工作清单</h1><p class=\"muted\">{}年{}</p>",
        escape(&w.staff.name),
        today.year(),
        md(today)
    );
    if let Some((ok, text)) = &message {
        let class = if *ok { "notice" } else { "error" };
        body.push_str(&format!("<p class=\"{class}\">{text}</p>"));
    }
    let overdue = w.items.iter().filter(|i| i.overdue).count();
    body.push_str(&format!(
        "<h2>待办 {} 项{}</h2>",
        w.items.len(),
        if overdue > 0 {
            format!("(逾期 {overdue} 项)")
        } else {
            String::new()
        }
    ));
    if w.items.is_empty() {
        body.push_str("<p class=\"muted\">暂无待办事项。</p>");
    }
    for i in &w.items {
        body.push_str(&item_card(i, base, today, false));
    }
    if let Some(team) = &w.team {
        body.push_str(
            "<h2>团队</h2><table><tr><th>姓名</th><th>待办</th><th>逾期</th><th>本月联系</th></tr>",
        );
        for m in &team.members {
            body.push_str(&format!(
                "<tr><td>{}({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&m.staff.name),
                escape(&m.staff.number),
                m.open,
                m.overdue,
                m.contacts_this_month
            ));
        }
        body.push_str("</table>");
        if !team.overdue.is_empty() {
            body.push_str("<h2>团队逾期事项</h2>");
            for i in &team.overdue {
                body.push_str(&item_card(i, base, today, true));
            }
        }
    }
    body.push_str("<h2>近30天记录</h2>");
    if w.recent.is_empty() {
        body.push_str("<p class=\"muted\">暂无记录。</p>");
    }
    for (c, name) in &w.recent {
        body.push_str(&format!("<p>{}:{}</p>", escape(name), contact_text(c)));
    }
    body.push_str("<h2>联系的老同志</h2><table><tr><th>姓名</th><th>上次联系</th></tr>");
    for e in &w.elders {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}{}</td></tr>",
            escape(&e.person.name),
            e.last_contact.map(md).unwrap_or_else(|| "无记录".into()),
            match (&e.paused, e.stale) {
                (Some(reason), _) => format!(
                    "<span class=\"tag warn\">暂停提醒:{}</span>",
                    escape(reason)
                ),
                (None, true) => "<span class=\"tag warn\">超30天</span>".into(),
                (None, false) => String::new(),
            }
        ));
    }
    body.push_str("</table>");
    body.push_str(&format!(
        "<p class=\"muted\"><a href=\"{}/calendar.ics\">订阅日历</a> · <a href=\"{}/worklist.json\">JSON</a></p>",
        escape(base),
        escape(base)
    ));
    layout(&format!("{} · 工作清单", w.staff.name), &body)
}

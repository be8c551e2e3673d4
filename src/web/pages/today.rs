//! Today (`GET /today`): the agenda of the day and the next seven days with
//! each client meeting's brief one click away, reminders due, threads
//! waiting for our reply, clients gone silent. The data is
//! [`crate::app::today::today`], as `kronika today` prints it.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Datelike, Local, NaiveDate, Utc};

use super::{AppState, asset, render, signed_in};
use crate::app::today::{ClientRef, Meeting};
use crate::web::i18n::Msg;

const CSS: &str = include_str!("../../../assets/today.css");

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/today", get(today)).route("/assets/today.css", get(css))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The words of this page (and the day and month names the brief uses too).
pub(super) struct Words {
    pub title: &'static str,
    pub today: &'static str,
    pub week: &'static str,
    pub no_today: &'static str,
    pub no_week: &'static str,
    pub all_day: &'static str,
    pub now: &'static str,
    pub done: &'static str,
    pub brief: &'static str,
    pub with: &'static str,
    pub organizer: &'static str,
    pub own_event: &'static str,
    pub reminders: &'static str,
    pub no_reminders: &'static str,
    pub overdue: &'static str,
    pub pending: &'static str,
    pub fired: &'static str,
    pub missed: &'static str,
    pub follow_up: &'static str,
    pub before_meeting: &'static str,
    pub waiting: &'static str,
    pub no_waiting: &'static str,
    pub waits: &'static str,
    pub from: &'static str,
    pub shown_of: &'static str,
    pub silent: &'static str,
    pub no_silent: &'static str,
    pub silent_after: &'static str,
    pub silent_default: &'static str,
    pub last_contact: &'static str,
    pub never: &'static str,
    pub added: &'static str,
    /// "day", "days" (2–4), "days" (5 and more): Czech has three forms.
    pub day_forms: [&'static str; 3],
    pub days: [&'static str; 7],
    pub months: [&'static str; 12],
    pub day_unit: &'static str,
    pub hour_unit: &'static str,
}

pub(super) static CS: Words = Words {
    title: "Dnes",
    today: "Dnešní program",
    week: "Příštích 7 dní",
    no_today: "Dnes žádné schůzky ani události.",
    no_week: "V příštích 7 dnech žádné schůzky ani události.",
    all_day: "celý den",
    now: "právě probíhá",
    done: "proběhlo",
    brief: "Podklady",
    with: "Účastníci",
    organizer: "Pořádá",
    own_event: "bez klienta",
    reminders: "Připomínky",
    no_reminders: "Žádné připomínky na příštích 24 hodin.",
    overdue: "po termínu",
    pending: "čeká",
    fired: "odesláno",
    missed: "zmeškáno",
    follow_up: "ozvat se",
    before_meeting: "před schůzkou",
    waiting: "Čeká na naši odpověď",
    no_waiting: "Žádné vlákno nečeká na naši odpověď.",
    waits: "čeká",
    from: "Od",
    shown_of: "zobrazeno",
    silent: "Klienti bez kontaktu",
    no_silent: "Žádný klient není bez kontaktu déle, než je nastaveno.",
    silent_after: "Bez pošty, poznámky či dokumentu nejméně",
    silent_default: "Připomínky follow-up nejsou nastavené ([reminders] follow_up_after); použito výchozích 90 dní.",
    last_contact: "Poslední kontakt",
    never: "zatím žádný kontakt",
    added: "přidán",
    day_forms: ["den", "dny", "dní"],
    days: ["pondělí", "úterý", "středa", "čtvrtek", "pátek", "sobota", "neděle"],
    months: [
        "ledna",
        "února",
        "března",
        "dubna",
        "května",
        "června",
        "července",
        "srpna",
        "září",
        "října",
        "listopadu",
        "prosince",
    ],
    day_unit: "d",
    hour_unit: "h",
};

pub(super) static EN: Words = Words {
    title: "Today",
    today: "Today's agenda",
    week: "Next 7 days",
    no_today: "No meetings or events today.",
    no_week: "No meetings or events in the next 7 days.",
    all_day: "all day",
    now: "in progress",
    done: "done",
    brief: "Brief",
    with: "Attendees",
    organizer: "Organiser",
    own_event: "no client",
    reminders: "Reminders",
    no_reminders: "No reminders due in the next 24 hours.",
    overdue: "overdue",
    pending: "pending",
    fired: "sent",
    missed: "missed",
    follow_up: "follow up",
    before_meeting: "before a meeting",
    waiting: "Waiting for our reply",
    no_waiting: "No thread is waiting for our reply.",
    waits: "waiting",
    from: "From",
    shown_of: "shown",
    silent: "Clients gone silent",
    no_silent: "No client has been silent longer than set.",
    silent_after: "No mail, note or document for at least",
    silent_default: "Follow-up reminders are not set ([reminders] follow_up_after); the default of 90 days is used.",
    last_contact: "Last contact",
    never: "no contact yet",
    added: "added",
    day_forms: ["day", "days", "days"],
    days: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    day_unit: "d",
    hour_unit: "h",
};

pub(super) fn words(t: &Msg) -> &'static Words {
    if t.lang == "cs" { &CS } else { &EN }
}

impl Words {
    /// "středa 2. prosince 2026" / "Wednesday 2 December 2026".
    pub(super) fn long_date(&self, d: NaiveDate) -> String {
        let day = self.days.get(d.weekday().num_days_from_monday() as usize).copied().unwrap_or("");
        let month = self.months.get(d.month0() as usize).copied().unwrap_or("");
        if std::ptr::eq(self, &CS) {
            format!("{day} {}. {month} {}", d.day(), d.year())
        } else {
            format!("{day} {} {month} {}", d.day(), d.year())
        }
    }

    /// "1 day", "3 dny", "400 dní".
    pub(super) fn days(&self, n: i64) -> String {
        let form = match n.unsigned_abs() {
            1 => 0,
            2..=4 => 1,
            _ => 2,
        };
        format!("{n} {}", self.day_forms.get(form).copied().unwrap_or(""))
    }

    /// When a meeting is, in the local zone: `09:00–10:30`, or "all day".
    pub(super) fn span(&self, m: &Meeting) -> String {
        if m.all_day {
            return self.all_day.to_string();
        }
        let start = local(m.start).format("%H:%M").to_string();
        match m.end {
            Some(e) if local(e).date_naive() != local(m.start).date_naive() => {
                format!("{start}–{}", local(e).format("%Y-%m-%d %H:%M"))
            }
            Some(e) => format!("{start}–{}", local(e).format("%H:%M")),
            None => start,
        }
    }
}

pub(super) fn local(d: DateTime<Utc>) -> DateTime<Local> {
    d.with_timezone(&Local)
}

/// A person on a meeting, as shown.
pub(super) struct PersonView {
    pub label: String,
    pub address: String,
    pub contact: bool,
}

/// A meeting as shown on Today and the brief.
pub(super) struct MeetingView {
    pub item_id: i64,
    pub span: String,
    pub summary: String,
    pub location: String,
    pub clients: Vec<ClientRef>,
    pub organizer: Option<PersonView>,
    pub attendees: Vec<PersonView>,
    /// `now`, `past` or empty (a CSS class too).
    pub state: &'static str,
    pub state_label: &'static str,
}

pub(super) fn meeting_view(w: &'static Words, m: &Meeting) -> MeetingView {
    let person = |p: &crate::app::today::Person| PersonView {
        label: match &p.contact {
            Some(c) => c.clone(),
            None => p.label().to_string(),
        },
        address: p.address.clone(),
        contact: p.contact.is_some(),
    };
    let (state, state_label) = if m.in_progress {
        ("now", w.now)
    } else if m.past {
        ("past", w.done)
    } else {
        ("", "")
    };
    MeetingView {
        item_id: m.item_id,
        span: w.span(m),
        summary: m.summary.clone(),
        location: m.location.trim().to_string(),
        clients: m.clients.clone(),
        organizer: m.organizer.as_ref().map(person),
        attendees: m.attendees.iter().map(person).collect(),
        state,
        state_label,
    }
}

struct DayView {
    label: String,
    meetings: Vec<MeetingView>,
}

struct ReminderView {
    due: String,
    title: String,
    kind: &'static str,
    /// `overdue`, `pending`, `fired`, `missed` (a CSS class too).
    state: &'static str,
    state_label: &'static str,
    client: Option<ClientRef>,
    brief: Option<String>,
}

struct WaitingView {
    item_id: i64,
    subject: String,
    from: String,
    date: String,
    waited: String,
    clients: Vec<ClientRef>,
}

struct SilentView {
    id: i64,
    name: String,
    last: String,
    days: String,
}

#[derive(Template)]
#[template(path = "today.html")]
struct TodayPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    date: String,
    today: Vec<MeetingView>,
    week: Vec<DayView>,
    reminders: Vec<ReminderView>,
    waiting: Vec<WaitingView>,
    waiting_total: usize,
    waiting_more: bool,
    silent: Vec<SilentView>,
    silent_total: usize,
    silent_days: String,
    silent_default: bool,
}

/// Today's page; the time shown is the time of the request.
async fn today(State(state): State<AppState>, headers: HeaderMap) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = words(t);
        let now = Utc::now();
        let viewer = ctx.viewer(config);
        let d = crate::app::today::today(store, config, &viewer, now)?;
        let mut week: Vec<DayView> = Vec::new();
        for m in &d.week {
            let day = match m.date.as_deref().filter(|_| m.all_day).and_then(|d| d.parse::<NaiveDate>().ok()) {
                Some(d) => d,
                None => local(m.start).date_naive(),
            };
            let label = w.long_date(day);
            match week.last_mut() {
                Some(g) if g.label == label => g.meetings.push(meeting_view(w, m)),
                _ => week.push(DayView { label, meetings: vec![meeting_view(w, m)] }),
            }
        }
        let reminders = d
            .reminders
            .iter()
            .map(|r| {
                let (state, state_label) = match r.state.as_str() {
                    _ if r.overdue => ("overdue", w.overdue),
                    "fired" => ("fired", w.fired),
                    "missed" => ("missed", w.missed),
                    _ => ("pending", w.pending),
                };
                ReminderView {
                    due: local(r.due_at).format("%Y-%m-%d %H:%M").to_string(),
                    title: r.title.clone(),
                    kind: if r.kind == "follow-up" { w.follow_up } else { w.before_meeting },
                    state,
                    state_label,
                    brief: match (&r.client, r.item_id) {
                        (Some(c), Some(i)) if r.kind == "event" => Some(format!("/brief/{}?event={i}", c.id)),
                        (Some(c), _) => Some(format!("/brief/{}", c.id)),
                        _ => None,
                    },
                    client: r.client.clone(),
                }
            })
            .collect();
        let waiting = d
            .waiting
            .iter()
            .map(|x| WaitingView {
                item_id: x.item_id,
                subject: if x.subject.trim().is_empty() { t.no_subject.to_string() } else { x.subject.clone() },
                from: x.from.clone(),
                date: local(x.date).format("%Y-%m-%d %H:%M").to_string(),
                waited: format!("{} {} {} {}", x.waiting_days, w.day_unit, x.waiting_hours, w.hour_unit),
                clients: x.clients.clone(),
            })
            .collect();
        let silent = d
            .silent
            .clients
            .iter()
            .map(|c| SilentView {
                id: c.id,
                name: c.name.clone(),
                last: match c.last {
                    Some(l) => format!("{}: {}", w.last_contact, local(l).format("%Y-%m-%d")),
                    None => format!("{} ({} {})", w.never, w.added, local(c.since).format("%Y-%m-%d")),
                },
                days: w.days(c.days),
            })
            .collect();
        let page = TodayPage {
            t,
            w,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: "/today".into(),
            date: w.long_date(d.date),
            today: d.today.iter().map(|m| meeting_view(w, m)).collect(),
            week,
            reminders,
            waiting,
            waiting_total: d.waiting_total,
            waiting_more: d.waiting_more,
            silent,
            silent_total: d.silent.total,
            silent_days: w.days(d.silent.after_days),
            silent_default: !d.silent.configured,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}

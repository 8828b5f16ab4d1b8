//! The enforcement state machines, as pure functions: cases (open -> investigating -> referred ->
//! closed), takedown requests (pending -> acknowledged -> taken_down | rejected, with legal
//! deadlines) and public reports (received -> in_review -> acted_on -> closed).
//!
//! Each `apply`/`answer` takes the current state and an action and returns the next state or a
//! typed error; nothing here reads the clock (times are passed in) or stores anything. The string
//! forms of the enums are stored and sent over the API: add variants, never rename.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::AgencyId;
use crate::model::UnknownValue;
use patroli_detect::{Category, Severity};

macro_rules! workflow_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $s:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($s => Ok($name::$variant),)* _ => Err(UnknownValue {
                    what: stringify!($name),
                    value: s.to_string(),
                    expected: &[$($s),*],
                }) }
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

workflow_enum!(
    /// Where a case stands. `Closed` is final.
    CaseStatus {
        Open => "open",
        Investigating => "investigating",
        /// Handed to another agency (recorded in [`CaseState::referrals`]).
        Referred => "referred",
        Closed => "closed",
    }
);

workflow_enum!(
    /// How a case ended.
    CaseOutcome {
        /// Suspects charged and the file sent to the prosecutor.
        Prosecution => "prosecution",
        /// Handed over to another agency, which continues it.
        Referral => "referral",
        /// Content and accounts removed; no further action.
        TakedownOnly => "takedown_only",
        /// Pembinaan: a guidance letter to a small local business instead of prosecution.
        Guidance => "guidance",
    }
);

/// A referral of a case to another agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub from_agency: AgencyId,
    pub to_agency: AgencyId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: String,
}

/// The workflow part of a case (the rest — posts, suspects, notes — lives with the caller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub status: CaseStatus,
    /// The agency that leads the case now (changes on referral).
    pub lead_agency: AgencyId,
    /// Every referral, oldest first.
    pub referrals: Vec<Referral>,
    pub outcome: Option<CaseOutcome>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// Something done to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    StartInvestigation,
    Refer { to_agency: AgencyId, reason: String },
    Close { outcome: CaseOutcome },
}

impl CaseAction {
    pub fn name(&self) -> &'static str {
        match self {
            CaseAction::StartInvestigation => "start_investigation",
            CaseAction::Refer { .. } => "refer",
            CaseAction::Close { .. } => "close",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the case is closed; closed cases cannot change")]
    Closed,
    #[error("a case that is {from} cannot {action}")]
    InvalidTransition {
        from: CaseStatus,
        action: &'static str,
    },
    #[error("a case cannot be referred to the agency that already leads it")]
    ReferToSelf,
    #[error("a referral needs a reason")]
    ReferralWithoutReason,
    #[error("the outcome `referral` needs the case to have been referred first")]
    OutcomeNeedsReferral,
}

impl CaseState {
    /// A new case led by `lead_agency`.
    pub fn open(lead_agency: AgencyId) -> CaseState {
        CaseState {
            status: CaseStatus::Open,
            lead_agency,
            referrals: Vec::new(),
            outcome: None,
            closed_at: None,
        }
    }

    /// Names of the actions [`CaseState::apply`] may accept now (for the buttons a page shows).
    pub fn allowed_actions(&self) -> &'static [&'static str] {
        match self.status {
            CaseStatus::Open => &["start_investigation", "refer", "close"],
            CaseStatus::Investigating => &["refer", "close"],
            CaseStatus::Referred => &["close"],
            CaseStatus::Closed => &[],
        }
    }

    /// Applies `action` at time `at`. Allowed: open -> investigating; open or investigating ->
    /// referred (recording the referral; the receiving agency becomes lead); any but closed ->
    /// closed with an outcome. Everything else, and anything on a closed case, is an error.
    pub fn apply(&self, action: &CaseAction, at: OffsetDateTime) -> Result<CaseState, CaseError> {
        use CaseStatus as S;
        if self.status == S::Closed {
            return Err(CaseError::Closed);
        }
        let invalid = || CaseError::InvalidTransition {
            from: self.status,
            action: action.name(),
        };
        let mut next = self.clone();
        match action {
            CaseAction::StartInvestigation => {
                if self.status != S::Open {
                    return Err(invalid());
                }
                next.status = S::Investigating;
            }
            CaseAction::Refer { to_agency, reason } => {
                if !matches!(self.status, S::Open | S::Investigating) {
                    return Err(invalid());
                }
                if *to_agency == self.lead_agency {
                    return Err(CaseError::ReferToSelf);
                }
                if reason.trim().is_empty() {
                    return Err(CaseError::ReferralWithoutReason);
                }
                next.referrals.push(Referral {
                    from_agency: self.lead_agency,
                    to_agency: *to_agency,
                    at,
                    reason: reason.trim().to_string(),
                });
                next.lead_agency = *to_agency;
                next.status = S::Referred;
            }
            CaseAction::Close { outcome } => {
                if *outcome == CaseOutcome::Referral && self.referrals.is_empty() {
                    return Err(CaseError::OutcomeNeedsReferral);
                }
                next.status = S::Closed;
                next.outcome = Some(*outcome);
                next.closed_at = Some(at);
            }
        }
        Ok(next)
    }
}

// ---------------------------------------------------------------------------------------------
// Takedowns
// ---------------------------------------------------------------------------------------------

workflow_enum!(
    /// How fast a platform must act (PP 71/2019: 24 hours; urgent content: 4 hours).
    Urgency {
        Normal => "normal",
        Urgent => "urgent",
    }
);

workflow_enum!(
    /// Where a takedown request stands. `TakenDown` and `Rejected` are final.
    TakedownStatus {
        Pending => "pending",
        Acknowledged => "acknowledged",
        TakenDown => "taken_down",
        Rejected => "rejected",
    }
);

impl TakedownStatus {
    /// True while the platform still owes an answer (the deadline runs).
    pub fn is_open(self) -> bool {
        matches!(self, TakedownStatus::Pending | TakedownStatus::Acknowledged)
    }
}

/// Deadlines in hours for one category (or the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineHours {
    pub normal: u32,
    pub urgent: u32,
}

/// Takedown deadlines. Officials cite different numbers, so they are configuration: defaults
/// from PP 71/2019 (24 h / 4 h), overridable per category, and categories whose requests are
/// always urgent (child exploitation: any [`Severity::Critical`] finding is urgent too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TakedownPolicy {
    pub default: DeadlineHours,
    pub categories: BTreeMap<Category, DeadlineHours>,
    /// Requests in these categories are urgent whatever was asked.
    pub always_urgent: Vec<Category>,
}

impl Default for TakedownPolicy {
    fn default() -> Self {
        TakedownPolicy {
            default: DeadlineHours {
                normal: 24,
                urgent: 4,
            },
            categories: BTreeMap::new(),
            always_urgent: Vec::new(),
        }
    }
}

impl TakedownPolicy {
    /// The urgency a request must carry: never less than asked; urgent for critical severity
    /// (signs of a minor) and for `always_urgent` categories.
    pub fn effective_urgency(
        &self,
        requested: Urgency,
        category: Option<Category>,
        severity: Severity,
    ) -> Urgency {
        let forced = severity >= Severity::Critical
            || category.is_some_and(|c| self.always_urgent.contains(&c));
        if forced { Urgency::Urgent } else { requested }
    }

    /// Time allowed for a request of this urgency and category.
    pub fn deadline(&self, urgency: Urgency, category: Option<Category>) -> Duration {
        let hours = category
            .and_then(|c| self.categories.get(&c))
            .unwrap_or(&self.default);
        Duration::hours(i64::from(match urgency {
            Urgency::Normal => hours.normal,
            Urgency::Urgent => hours.urgent,
        }))
    }

    /// When the platform must have answered.
    pub fn due_at(
        &self,
        requested_at: OffsetDateTime,
        urgency: Urgency,
        category: Option<Category>,
    ) -> OffsetDateTime {
        requested_at + self.deadline(urgency, category)
    }
}

/// True when the request is still open after its deadline.
pub fn is_overdue(status: TakedownStatus, due_at: OffsetDateTime, now: OffsetDateTime) -> bool {
    status.is_open() && now > due_at
}

/// Time left before the deadline (negative when overdue), for the UI countdown.
pub fn time_left(due_at: OffsetDateTime, now: OffsetDateTime) -> Duration {
    due_at - now
}

/// A platform's move on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TakedownAnswer {
    Acknowledged,
    TakenDown {
        #[serde(default)]
        reason: String,
    },
    Rejected {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TakedownError {
    #[error("the request is already {0}; it cannot change")]
    Final(TakedownStatus),
    #[error("the request is already acknowledged")]
    AlreadyAcknowledged,
    #[error("a rejection needs a reason")]
    RejectionWithoutReason,
}

/// The next status after a platform's answer. An answer straight from `pending` is allowed (it
/// acknowledges implicitly); final statuses never change.
pub fn answer_takedown(
    current: TakedownStatus,
    answer: &TakedownAnswer,
) -> Result<TakedownStatus, TakedownError> {
    if !current.is_open() {
        return Err(TakedownError::Final(current));
    }
    match answer {
        TakedownAnswer::Acknowledged if current == TakedownStatus::Acknowledged => {
            Err(TakedownError::AlreadyAcknowledged)
        }
        TakedownAnswer::Acknowledged => Ok(TakedownStatus::Acknowledged),
        TakedownAnswer::TakenDown { .. } => Ok(TakedownStatus::TakenDown),
        TakedownAnswer::Rejected { reason } if reason.trim().is_empty() => {
            Err(TakedownError::RejectionWithoutReason)
        }
        TakedownAnswer::Rejected { .. } => Ok(TakedownStatus::Rejected),
    }
}

/// True when content was taken down no later than its deadline (the compliance statistic).
pub fn complied_in_time(
    status: TakedownStatus,
    answered_at: Option<OffsetDateTime>,
    due_at: OffsetDateTime,
) -> bool {
    status == TakedownStatus::TakenDown && answered_at.is_some_and(|t| t <= due_at)
}

// ---------------------------------------------------------------------------------------------
// Public reports
// ---------------------------------------------------------------------------------------------

workflow_enum!(
    /// What a reporter sees with their tracking code, and nothing else. `Closed` is final.
    ReportStatus {
        Received => "received",
        InReview => "in_review",
        ActedOn => "acted_on",
        Closed => "closed",
    }
);

impl ReportStatus {
    /// Label for the public tracking page (Bahasa Indonesia).
    pub fn label_id(self) -> &'static str {
        match self {
            ReportStatus::Received => "Diterima",
            ReportStatus::InReview => "Sedang ditinjau",
            ReportStatus::ActedOn => "Ditindaklanjuti",
            ReportStatus::Closed => "Selesai",
        }
    }

    /// Label in English.
    pub fn label_en(self) -> &'static str {
        match self {
            ReportStatus::Received => "Received",
            ReportStatus::InReview => "In review",
            ReportStatus::ActedOn => "Acted on",
            ReportStatus::Closed => "Closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the report is closed; closed reports cannot change")]
    Closed,
    #[error("a report cannot go from {from} to {to}")]
    InvalidTransition {
        from: ReportStatus,
        to: ReportStatus,
    },
}

impl ReportStatus {
    /// The statuses [`advance_report`] accepts from this one.
    pub fn next(self) -> &'static [ReportStatus] {
        match self {
            ReportStatus::Received => &[ReportStatus::InReview, ReportStatus::Closed],
            ReportStatus::InReview => &[ReportStatus::ActedOn, ReportStatus::Closed],
            ReportStatus::ActedOn => &[ReportStatus::Closed],
            ReportStatus::Closed => &[],
        }
    }
}

/// Moves a report forward. Allowed: received -> in_review -> acted_on -> closed, and closing
/// from any open status (a duplicate or unfounded report is closed without action). Never back.
pub fn advance_report(
    current: ReportStatus,
    to: ReportStatus,
) -> Result<ReportStatus, ReportError> {
    use ReportStatus as R;
    match (current, to) {
        (R::Closed, _) => Err(ReportError::Closed),
        (R::Received, R::InReview)
        | (R::InReview, R::ActedOn)
        | (R::Received | R::InReview | R::ActedOn, R::Closed) => Ok(to),
        _ => Err(ReportError::InvalidTransition { from: current, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    const T0: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);

    fn agency(n: u128) -> AgencyId {
        AgencyId(Uuid::from_u128(n))
    }

    #[test]
    fn a_case_goes_open_investigating_referred_closed() {
        let bpom = agency(1);
        let polda = agency(2);
        let case = CaseState::open(bpom);
        let case = case.apply(&CaseAction::StartInvestigation, T0).unwrap();
        assert_eq!(case.status, CaseStatus::Investigating);
        let refer = CaseAction::Refer {
            to_agency: polda,
            reason: "  tersangka ditangkap Polres  ".into(),
        };
        let case = case.apply(&refer, T0 + Duration::days(2)).unwrap();
        assert_eq!(case.status, CaseStatus::Referred);
        assert_eq!(case.lead_agency, polda);
        assert_eq!(case.referrals[0].from_agency, bpom);
        assert_eq!(case.referrals[0].reason, "tersangka ditangkap Polres");
        let at = T0 + Duration::days(30);
        let closed = case
            .apply(
                &CaseAction::Close {
                    outcome: CaseOutcome::Referral,
                },
                at,
            )
            .unwrap();
        assert_eq!(closed.status, CaseStatus::Closed);
        assert_eq!(closed.closed_at, Some(at));
        assert_eq!(
            closed.apply(&CaseAction::StartInvestigation, at),
            Err(CaseError::Closed)
        );
    }

    #[test]
    fn invalid_case_moves_are_rejected() {
        let bpom = agency(1);
        let open = CaseState::open(bpom);
        let referred = open
            .apply(
                &CaseAction::Refer {
                    to_agency: agency(3),
                    reason: "wilayah Polda lain".into(),
                },
                T0,
            )
            .unwrap();
        assert_eq!(
            referred.apply(&CaseAction::StartInvestigation, T0),
            Err(CaseError::InvalidTransition {
                from: CaseStatus::Referred,
                action: "start_investigation"
            })
        );
        let self_refer = CaseAction::Refer {
            to_agency: bpom,
            reason: "x".into(),
        };
        assert_eq!(open.apply(&self_refer, T0), Err(CaseError::ReferToSelf));
        let no_reason = CaseAction::Refer {
            to_agency: agency(3),
            reason: " ".into(),
        };
        assert_eq!(
            open.apply(&no_reason, T0),
            Err(CaseError::ReferralWithoutReason)
        );
        let close_as_referral = CaseAction::Close {
            outcome: CaseOutcome::Referral,
        };
        assert_eq!(
            open.apply(&close_as_referral, T0),
            Err(CaseError::OutcomeNeedsReferral)
        );
        let guidance = open
            .apply(
                &CaseAction::Close {
                    outcome: CaseOutcome::Guidance,
                },
                T0,
            )
            .unwrap();
        assert_eq!(guidance.outcome, Some(CaseOutcome::Guidance));
    }

    #[test]
    fn allowed_actions_match_what_apply_accepts() {
        let lead = agency(1);
        let actions = [
            CaseAction::StartInvestigation,
            CaseAction::Refer {
                to_agency: agency(2),
                reason: "alasan".into(),
            },
            CaseAction::Close {
                outcome: CaseOutcome::TakedownOnly,
            },
        ];
        let open = CaseState::open(lead);
        let investigating = open.apply(&actions[0], T0).unwrap();
        let referred = investigating.apply(&actions[1], T0).unwrap();
        let closed = referred.apply(&actions[2], T0).unwrap();
        for state in [open, investigating, referred, closed] {
            for action in &actions {
                assert_eq!(
                    state.apply(action, T0).is_ok(),
                    state.allowed_actions().contains(&action.name()),
                    "{} {}",
                    state.status,
                    action.name()
                );
            }
        }
    }

    #[test]
    fn takedown_deadlines_follow_urgency_category_and_severity() {
        let mut policy = TakedownPolicy::default();
        assert_eq!(
            policy.due_at(T0, Urgency::Normal, None),
            datetime!(2026-11-21 08:00 UTC)
        );
        assert_eq!(
            policy.due_at(T0, Urgency::Urgent, Some(Category::Drugs)),
            datetime!(2026-11-20 12:00 UTC)
        );
        // Signs of a minor make any request urgent.
        assert_eq!(
            policy.effective_urgency(
                Urgency::Normal,
                Some(Category::SexualExploitation),
                Severity::Critical
            ),
            Urgency::Urgent
        );
        assert_eq!(
            policy.effective_urgency(Urgency::Normal, Some(Category::Drugs), Severity::High),
            Urgency::Normal
        );
        policy.always_urgent.push(Category::TraffickingRecruitment);
        policy.categories.insert(
            Category::TraffickingRecruitment,
            DeadlineHours {
                normal: 12,
                urgent: 2,
            },
        );
        let u = policy.effective_urgency(
            Urgency::Normal,
            Some(Category::TraffickingRecruitment),
            Severity::Medium,
        );
        assert_eq!(u, Urgency::Urgent);
        assert_eq!(
            policy.deadline(u, Some(Category::TraffickingRecruitment)),
            Duration::hours(2)
        );
        let parsed: TakedownPolicy =
            serde_json::from_str(r#"{"default":{"normal":48,"urgent":6}}"#).unwrap();
        assert_eq!(parsed.deadline(Urgency::Normal, None), Duration::hours(48));
        assert!(serde_json::from_str::<TakedownPolicy>(r#"{"defualt":{}}"#).is_err());
    }

    #[test]
    fn overdue_only_while_open() {
        let due = datetime!(2026-11-20 12:00 UTC);
        let late = due + Duration::minutes(1);
        assert!(!is_overdue(TakedownStatus::Pending, due, due));
        assert!(is_overdue(TakedownStatus::Pending, due, late));
        assert!(is_overdue(TakedownStatus::Acknowledged, due, late));
        assert!(!is_overdue(TakedownStatus::TakenDown, due, late));
        assert_eq!(time_left(due, late), Duration::minutes(-1));
        assert!(complied_in_time(TakedownStatus::TakenDown, Some(due), due));
        assert!(!complied_in_time(
            TakedownStatus::TakenDown,
            Some(late),
            due
        ));
        assert!(!complied_in_time(TakedownStatus::Rejected, Some(due), due));
    }

    #[test]
    fn takedown_answers() {
        use TakedownStatus as S;
        let ack = TakedownAnswer::Acknowledged;
        let down = TakedownAnswer::TakenDown {
            reason: String::new(),
        };
        assert_eq!(answer_takedown(S::Pending, &ack), Ok(S::Acknowledged));
        assert_eq!(
            answer_takedown(S::Acknowledged, &ack),
            Err(TakedownError::AlreadyAcknowledged)
        );
        assert_eq!(answer_takedown(S::Acknowledged, &down), Ok(S::TakenDown));
        assert_eq!(answer_takedown(S::Pending, &down), Ok(S::TakenDown));
        assert_eq!(
            answer_takedown(
                S::Acknowledged,
                &TakedownAnswer::Rejected { reason: "".into() }
            ),
            Err(TakedownError::RejectionWithoutReason)
        );
        assert_eq!(
            answer_takedown(
                S::TakenDown,
                &TakedownAnswer::Rejected { reason: "x".into() }
            ),
            Err(TakedownError::Final(S::TakenDown))
        );
        let parsed: TakedownAnswer =
            serde_json::from_str(r#"{"status":"rejected","reason":"bukan pelanggaran"}"#).unwrap();
        assert_eq!(answer_takedown(S::Pending, &parsed), Ok(S::Rejected));
        assert_eq!("taken_down".parse::<S>(), Ok(S::TakenDown));
    }

    #[test]
    fn reports_move_forward_only() {
        use ReportStatus as R;
        assert_eq!(advance_report(R::Received, R::InReview), Ok(R::InReview));
        assert_eq!(advance_report(R::InReview, R::ActedOn), Ok(R::ActedOn));
        assert_eq!(advance_report(R::ActedOn, R::Closed), Ok(R::Closed));
        assert_eq!(advance_report(R::Received, R::Closed), Ok(R::Closed));
        assert_eq!(
            advance_report(R::ActedOn, R::InReview),
            Err(ReportError::InvalidTransition {
                from: R::ActedOn,
                to: R::InReview
            })
        );
        assert_eq!(
            advance_report(R::Received, R::ActedOn),
            Err(ReportError::InvalidTransition {
                from: R::Received,
                to: R::ActedOn
            })
        );
        assert_eq!(
            advance_report(R::Closed, R::Closed),
            Err(ReportError::Closed)
        );
        // `next` and `advance_report` agree on every pair.
        for &from in R::ALL {
            for &to in R::ALL {
                assert_eq!(
                    advance_report(from, to).is_ok(),
                    from.next().contains(&to),
                    "{from} -> {to}"
                );
            }
        }
        assert_eq!(R::ActedOn.as_str(), "acted_on");
        assert_eq!(
            serde_json::to_string(&R::InReview).unwrap(),
            "\"in_review\""
        );
    }
}

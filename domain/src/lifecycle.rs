//! The item lifecycle and the permissions on it.
//!
//! [000 Art.67] names the chain 立项-交办-承办-反馈-核查-销号; docs/rules.md §1 adds 签收,
//! 退回, 延期, 挂起/恢复, 撤销 and 回头看 (re-inspection after closing, [001 Art.70],
//! [002 Art.70]). An item's stage is never stored on its own authority: it is the end of its
//! history of stage changes ([`stage_from_history`]).

use serde::{Deserialize, Serialize};

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// 已立项: registered by the office, editable until assigned [000 Art.66].
    Registered,
    /// 已交办: sent to its units; the clock runs from this instant.
    Assigned,
    /// 承办中: the lead unit has signed for it.
    InProgress,
    /// 已反馈: the lead unit submitted its completion report (办结反馈).
    FeedbackSubmitted,
    /// 已核查: the office accepted the report.
    Verified,
    /// 已销号.
    Closed,
    /// 挂起: the clock is paused.
    Suspended,
    /// 已撤销.
    Cancelled,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Registered,
        Stage::Assigned,
        Stage::InProgress,
        Stage::FeedbackSubmitted,
        Stage::Verified,
        Stage::Closed,
        Stage::Suspended,
        Stage::Cancelled,
    ];

    /// Stable text for storage and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Registered => "REGISTERED",
            Stage::Assigned => "ASSIGNED",
            Stage::InProgress => "IN_PROGRESS",
            Stage::FeedbackSubmitted => "FEEDBACK_SUBMITTED",
            Stage::Verified => "VERIFIED",
            Stage::Closed => "CLOSED",
            Stage::Suspended => "SUSPENDED",
            Stage::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Registered => "已立项",
            Stage::Assigned => "已交办",
            Stage::InProgress => "承办中",
            Stage::FeedbackSubmitted => "已反馈",
            Stage::Verified => "已核查",
            Stage::Closed => "已销号",
            Stage::Suspended => "已挂起",
            Stage::Cancelled => "已撤销",
        }
    }

    /// Open items are the ones whose deadlines still matter.
    pub fn is_open(self) -> bool {
        !matches!(self, Stage::Closed | Stage::Cancelled)
    }
}

/// Who a person is in the supervision work (docs/rules.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Supervisor,
    Leader,
    UnitHead,
    UnitStaff,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Supervisor,
        Role::Leader,
        Role::UnitHead,
        Role::UnitStaff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Supervisor => "SUPERVISOR",
            Role::Leader => "LEADER",
            Role::UnitHead => "UNIT_HEAD",
            Role::UnitStaff => "UNIT_STAFF",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Office and leaders see every item; units see only their own assignments.
    pub fn sees_everything(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor | Role::Leader)
    }

    /// Roles that belong to a unit and act only on that unit's assignments.
    pub fn is_unit_role(self) -> bool {
        matches!(self, Role::UnitHead | Role::UnitStaff)
    }
}

/// Every verb of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    Register,
    Edit,
    Assign,
    /// 签收 by a unit.
    Sign,
    /// 退回: a unit says the item is not theirs.
    Return,
    /// The office answers a return by assigning the item to another unit.
    Reassign,
    /// The office answers a return by insisting.
    Insist,
    RequestExtension,
    DecideExtension,
    ReportProgress,
    SubmitFeedback,
    /// 核查通过.
    Verify,
    /// 退回重办: back to IN_PROGRESS, the original due instant still running.
    Reject,
    Close,
    Suspend,
    Resume,
    Cancel,
    /// 回头看 found the problem back: reopen a closed item.
    Reopen,
    /// 批示: a leader's written instruction on an item; its stage stays where it is.
    Instruct,
    /// 上报落实情况: the office sent an item received from above its report upward.
    ReportUpward,
    /// 催办: the office presses the units of a running item with a line of its own.
    Urge,
}

impl Action {
    pub const ALL: [Action; 21] = [
        Action::Register,
        Action::Edit,
        Action::Assign,
        Action::Sign,
        Action::Return,
        Action::Reassign,
        Action::Insist,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::ReportProgress,
        Action::SubmitFeedback,
        Action::Verify,
        Action::Reject,
        Action::Close,
        Action::Suspend,
        Action::Resume,
        Action::Cancel,
        Action::Reopen,
        Action::Instruct,
        Action::ReportUpward,
        Action::Urge,
    ];

    /// The action of a stored or posted name ([`Action::name`]).
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The stable name of the verb in the audit trail and the API (SCREAMING_SNAKE, as the
    /// API's enums): stored, so never renamed.
    pub fn name(self) -> &'static str {
        match self {
            Action::Register => "REGISTER",
            Action::Edit => "EDIT",
            Action::Assign => "ASSIGN",
            Action::Sign => "SIGN",
            Action::Return => "RETURN",
            Action::Reassign => "REASSIGN",
            Action::Insist => "INSIST",
            Action::RequestExtension => "REQUEST_EXTENSION",
            Action::DecideExtension => "DECIDE_EXTENSION",
            Action::ReportProgress => "REPORT_PROGRESS",
            Action::SubmitFeedback => "SUBMIT_FEEDBACK",
            Action::Verify => "VERIFY",
            Action::Reject => "REJECT",
            Action::Close => "CLOSE",
            Action::Suspend => "SUSPEND",
            Action::Resume => "RESUME",
            Action::Cancel => "CANCEL",
            Action::Reopen => "REOPEN",
            Action::Instruct => "INSTRUCT",
            Action::ReportUpward => "REPORT_UPWARD",
            Action::Urge => "URGE",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Register => "立项",
            Action::Edit => "修改",
            Action::Assign => "交办",
            Action::Sign => "签收",
            Action::Return => "申请退回",
            Action::Reassign => "改派",
            Action::Insist => "维持交办",
            Action::RequestExtension => "申请延期",
            Action::DecideExtension => "审批延期",
            Action::ReportProgress => "报送进展",
            Action::SubmitFeedback => "办结反馈",
            Action::Verify => "核查通过",
            Action::Reject => "退回重办",
            Action::Close => "销号",
            Action::Suspend => "挂起",
            Action::Resume => "恢复",
            Action::Cancel => "撤销",
            Action::Reopen => "回头看重新打开",
            Action::Instruct => "领导批示",
            Action::ReportUpward => "上报落实情况",
            Action::Urge => "催办",
        }
    }

    /// May `role` perform this action at all? (Unit scoping — *which* unit — is checked
    /// where the assignment is known.)
    pub fn allowed_for(self, role: Role) -> bool {
        use Action::*;
        let office = matches!(role, Role::Admin | Role::Supervisor);
        match self {
            Register | Edit | Assign | Reassign | Insist | Verify | Reject | Close | Suspend
            | Resume | Cancel | Reopen | ReportUpward | Urge => office,
            // The office decides; beyond the office's limit a leader does (docs/rules.md §1).
            DecideExtension => office || role == Role::Leader,
            // The unit head answers for the unit [001 Art.31]: 主要负责同志是第一负责人.
            Sign | Return | RequestExtension | SubmitFeedback => role == Role::UnitHead,
            ReportProgress => role.is_unit_role(),
            // A leader's instruction: the office passes leaders' words on, it does not write them.
            Instruct => role == Role::Leader,
        }
    }

    /// The stage this action leads to from `from`, or why it cannot happen there.
    /// `Resume` needs to know where the item was when it was suspended: `resume_to`.
    pub fn next_stage(
        self,
        from: Stage,
        resume_to: Option<Stage>,
    ) -> Result<Stage, TransitionError> {
        use Stage::*;
        let to = match (self, from) {
            (Action::Edit, Registered) => Registered,
            (Action::Assign, Registered) => Assigned,
            (Action::Sign, Assigned) => InProgress,
            // Co-units may sign after the lead unit; the item stays where it is.
            (Action::Sign, InProgress | FeedbackSubmitted) => from,
            (Action::Return | Action::Reassign | Action::Insist, Assigned | InProgress) => from,
            (Action::RequestExtension | Action::DecideExtension, Assigned | InProgress) => from,
            (Action::ReportProgress, Assigned | InProgress | FeedbackSubmitted) => from,
            // The units are pressed while the work is theirs, not while the office verifies.
            (Action::Urge, Assigned | InProgress) => from,
            (Action::SubmitFeedback, InProgress) => FeedbackSubmitted,
            (Action::Verify, FeedbackSubmitted) => Verified,
            // Once accepted, a report is not rejected; a problem found later is 回头看 (Reopen).
            (Action::Reject, FeedbackSubmitted) => InProgress,
            (Action::Close, Verified) => Closed,
            (Action::Suspend, Assigned | InProgress | FeedbackSubmitted) => Suspended,
            (Action::Resume, Suspended) => match resume_to {
                Some(stage) if stage != Suspended => stage,
                _ => return Err(TransitionError { action: self, from }),
            },
            (
                Action::Cancel,
                Registered | Assigned | InProgress | FeedbackSubmitted | Verified | Suspended,
            ) => Cancelled,
            (Action::Reopen, Closed) => InProgress,
            // Reported up once the district's work is verified or closed.
            (Action::ReportUpward, Verified | Closed) => from,
            // A leader may instruct on any item that is not cancelled: before assignment
            // (how to assign it), while it runs, and after closing (回头看 starts so).
            (Action::Instruct, _) if from != Cancelled => from,
            _ => return Err(TransitionError { action: self, from }),
        };
        Ok(to)
    }
}

/// An action that the item's stage does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("事项当前为“{}”，不能{}", .from.label(), .action.label())]
pub struct TransitionError {
    pub action: Action,
    pub from: Stage,
}

/// Where a unit's own assignment stands, as far as signing and returning it depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AssignmentStanding {
    pub signed: bool,
    /// The unit has asked the office to take the item back, and the office has not answered.
    pub return_requested: bool,
    /// The office has answered a return of this assignment by insisting (维持交办).
    pub insisted_on: bool,
}

/// Why a unit cannot do what it asked with its assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub &'static str);

impl AssignmentStanding {
    /// 签收: once, and not while a return waits for the office.
    pub fn check_sign(self) -> Result<(), Refusal> {
        if self.signed {
            return Err(Refusal("本单位已签收该事项"));
        }
        if self.return_requested {
            return Err(Refusal("本单位已申请退回，等待督查室处理"));
        }
        Ok(())
    }

    /// 退回: before signing, once at a time, and never again after the office insisted — its
    /// answer is final for that unit, or a unit could return the item forever.
    pub fn check_return(self) -> Result<(), Refusal> {
        if self.return_requested {
            return Err(Refusal("已申请退回，等待督查室处理"));
        }
        if self.signed {
            return Err(Refusal("已签收的事项不能申请退回"));
        }
        if self.insisted_on {
            return Err(Refusal(
                "督查室已维持交办，本单位不能再次申请退回，请签收办理",
            ));
        }
        Ok(())
    }
}

/// One stage change of the audit trail, as the lifecycle needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageChange {
    pub from: Option<Stage>,
    pub to: Stage,
}

/// The stage is where the history ends; an item with no history does not exist yet.
/// Returns the current stage and, when suspended, the stage to resume to.
pub fn stage_from_history(history: &[StageChange]) -> Option<(Stage, Option<Stage>)> {
    let last = history.last()?;
    let resume_to = (last.to == Stage::Suspended).then_some(last.from).flatten();
    Some((last.to, resume_to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_runs_from_registration_to_closing() {
        let mut stage = Stage::Registered;
        for action in [
            Action::Assign,
            Action::Sign,
            Action::SubmitFeedback,
            Action::Verify,
            Action::Close,
        ] {
            stage = action.next_stage(stage, None).expect("allowed");
        }
        assert_eq!(stage, Stage::Closed);
        assert_eq!(
            Action::Reopen.next_stage(stage, None),
            Ok(Stage::InProgress)
        );
    }

    #[test]
    fn illegal_transitions_name_the_stage_and_the_action() {
        let error = Action::Close
            .next_stage(Stage::InProgress, None)
            .expect_err("not verified yet");
        assert_eq!(error.to_string(), "事项当前为“承办中”，不能销号");
        assert!(
            Action::SubmitFeedback
                .next_stage(Stage::Assigned, None)
                .is_err(),
            "sign first"
        );
        assert!(Action::Assign.next_stage(Stage::Cancelled, None).is_err());
        assert!(
            Action::Cancel.next_stage(Stage::Closed, None).is_err(),
            "closed items reopen, not cancel"
        );
    }

    #[test]
    fn every_action_is_closed_over_every_stage() {
        // No (action, stage) pair panics, and the terminal CANCELLED stage admits nothing.
        let actions = [
            Action::Register,
            Action::Edit,
            Action::Assign,
            Action::Sign,
            Action::Return,
            Action::Reassign,
            Action::Insist,
            Action::RequestExtension,
            Action::DecideExtension,
            Action::ReportProgress,
            Action::SubmitFeedback,
            Action::Verify,
            Action::Reject,
            Action::Close,
            Action::Suspend,
            Action::Resume,
            Action::Cancel,
            Action::Reopen,
        ];
        for action in actions {
            for stage in Stage::ALL {
                let _ = action.next_stage(stage, Some(Stage::InProgress));
            }
            assert!(
                action
                    .next_stage(Stage::Cancelled, Some(Stage::InProgress))
                    .is_err(),
                "{action:?}"
            );
        }
    }

    #[test]
    fn resume_returns_to_the_stage_before_suspension_from_history() {
        let history = [
            StageChange {
                from: None,
                to: Stage::Registered,
            },
            StageChange {
                from: Some(Stage::Registered),
                to: Stage::Assigned,
            },
            StageChange {
                from: Some(Stage::Assigned),
                to: Stage::InProgress,
            },
            StageChange {
                from: Some(Stage::InProgress),
                to: Stage::Suspended,
            },
        ];
        let (stage, resume_to) = stage_from_history(&history).expect("has history");
        assert_eq!(
            (stage, resume_to),
            (Stage::Suspended, Some(Stage::InProgress))
        );
        assert_eq!(
            Action::Resume.next_stage(stage, resume_to),
            Ok(Stage::InProgress)
        );
        assert!(Action::Resume.next_stage(stage, None).is_err());
    }

    #[test]
    fn units_cannot_do_the_offices_work_and_staff_cannot_sign() {
        assert!(!Action::Close.allowed_for(Role::UnitHead));
        assert!(!Action::Sign.allowed_for(Role::UnitStaff));
        assert!(Action::ReportProgress.allowed_for(Role::UnitStaff));
        assert!(Action::DecideExtension.allowed_for(Role::Leader));
        assert!(
            !Action::Verify.allowed_for(Role::Leader),
            "leaders read; the office verifies"
        );
        assert!(Action::Assign.allowed_for(Role::Supervisor));
    }
}

//! Where supervision items come from (docs/rules.md §2) and the deadline each kind gets when the
//! item states none. An explicit deadline on the item always wins ([003 Art.53]:
//! 有明确上报时限的按时限上报; [002 Art.60]: 对于未明确办理时限的文件…).

use ducha_calendar::DeadlineRule;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceKind {
    /// 上级部署的督查检查 (S1)
    UpperInspection,
    /// 上级领导批示 (S2)
    UpperLeaderInstruction,
    /// 本级领导批示、交办 (S3)
    LeaderInstruction,
    /// 《政府工作报告》任务、民生实事 (S4)
    GovWorkReport,
    /// 重要会议决定事项 (S5)
    MeetingDecision,
    /// 重要文件贯彻落实 (S6, S18)
    KeyDocument,
    /// 重点项目、重大工程 (S7)
    KeyProject,
    /// 审计整改 (S8)
    AuditRectification,
    /// 人大代表建议 (S9)
    NpcSuggestion,
    /// 政协提案 (S9)
    CppccProposal,
    /// 社会热点难点 (S10)
    HotIssue,
    /// 互联网+督查留言、媒体问政 (S11)
    InternetMessage,
    /// 新闻媒体批评 (S12)
    MediaCriticism,
    /// 信访、12345热线 (S15)
    PetitionHotline,
    /// 其他交办事项 (S13)
    Other,
}

impl SourceKind {
    pub const ALL: [SourceKind; 15] = [
        SourceKind::UpperInspection,
        SourceKind::UpperLeaderInstruction,
        SourceKind::LeaderInstruction,
        SourceKind::GovWorkReport,
        SourceKind::MeetingDecision,
        SourceKind::KeyDocument,
        SourceKind::KeyProject,
        SourceKind::AuditRectification,
        SourceKind::NpcSuggestion,
        SourceKind::CppccProposal,
        SourceKind::HotIssue,
        SourceKind::InternetMessage,
        SourceKind::MediaCriticism,
        SourceKind::PetitionHotline,
        SourceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::UpperInspection => "UPPER_INSPECTION",
            SourceKind::UpperLeaderInstruction => "UPPER_LEADER_INSTRUCTION",
            SourceKind::LeaderInstruction => "LEADER_INSTRUCTION",
            SourceKind::GovWorkReport => "GOV_WORK_REPORT",
            SourceKind::MeetingDecision => "MEETING_DECISION",
            SourceKind::KeyDocument => "KEY_DOCUMENT",
            SourceKind::KeyProject => "KEY_PROJECT",
            SourceKind::AuditRectification => "AUDIT_RECTIFICATION",
            SourceKind::NpcSuggestion => "NPC_SUGGESTION",
            SourceKind::CppccProposal => "CPPCC_PROPOSAL",
            SourceKind::HotIssue => "HOT_ISSUE",
            SourceKind::InternetMessage => "INTERNET_MESSAGE",
            SourceKind::MediaCriticism => "MEDIA_CRITICISM",
            SourceKind::PetitionHotline => "PETITION_HOTLINE",
            SourceKind::Other => "OTHER",
        }
    }

    pub fn parse(text: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            SourceKind::UpperInspection => "上级督查检查",
            SourceKind::UpperLeaderInstruction => "上级领导批示",
            SourceKind::LeaderInstruction => "领导批示交办",
            SourceKind::GovWorkReport => "政府工作报告任务",
            SourceKind::MeetingDecision => "会议决定事项",
            SourceKind::KeyDocument => "重要文件落实",
            SourceKind::KeyProject => "重点项目",
            SourceKind::AuditRectification => "审计整改",
            SourceKind::NpcSuggestion => "人大代表建议",
            SourceKind::CppccProposal => "政协提案",
            SourceKind::HotIssue => "社会热点难点",
            SourceKind::InternetMessage => "互联网+督查留言",
            SourceKind::MediaCriticism => "媒体批评",
            SourceKind::PetitionHotline => "信访与12345热线",
            SourceKind::Other => "其他交办事项",
        }
    }

    /// The deadline an item of this kind gets when it states none (docs/rules.md §2).
    pub fn default_deadline(self) -> DeadlineRule {
        match self {
            // [000 Art.67]: 批示件…原则上要3个工作日内落实并反馈.
            SourceKind::LeaderInstruction | SourceKind::UpperLeaderInstruction => {
                DeadlineRule::WorkingDays(3)
            }
            // [002 Art.60]: 未明确办理时限的文件…1个月内.
            SourceKind::KeyDocument => DeadlineRule::Months(1),
            // 限时办结 [001 Art.39]; three months is the common provincial rule (G13).
            SourceKind::NpcSuggestion | SourceKind::CppccProposal => DeadlineRule::Months(3),
            SourceKind::GovWorkReport | SourceKind::KeyProject | SourceKind::AuditRectification => {
                DeadlineRule::Months(3)
            }
            // No seed gives a number: a first substantive report in 10 working days (G12).
            _ => DeadlineRule::WorkingDays(10),
        }
    }

    /// Long items report progress on a cycle ([000 Art.67]: 定期报告进展; G8): weekly for
    /// instructions that run past their days, monthly for the long kinds.
    pub fn default_report_cycle_days(self) -> Option<i32> {
        match self.default_deadline() {
            DeadlineRule::Months(_) => Some(30),
            _ => None,
        }
    }
}

/// 紧急程度 ([001 Art.59]: 急件即到即办).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Urgency {
    /// 特急
    Critical,
    /// 急
    Urgent,
    /// 一般
    Normal,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Critical => "CRITICAL",
            Urgency::Urgent => "URGENT",
            Urgency::Normal => "NORMAL",
        }
    }

    pub fn parse(text: &str) -> Option<Urgency> {
        [Urgency::Critical, Urgency::Urgent, Urgency::Normal]
            .into_iter()
            .find(|u| u.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_stored_text() {
        for kind in SourceKind::ALL {
            assert_eq!(SourceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SourceKind::parse("leader_instruction"), None);
    }

    #[test]
    fn leader_instructions_default_to_three_working_days() {
        assert_eq!(
            SourceKind::LeaderInstruction.default_deadline(),
            DeadlineRule::WorkingDays(3)
        );
        assert_eq!(
            SourceKind::NpcSuggestion.default_deadline(),
            DeadlineRule::Months(3)
        );
        assert_eq!(
            SourceKind::NpcSuggestion.default_report_cycle_days(),
            Some(30)
        );
        assert_eq!(
            SourceKind::LeaderInstruction.default_report_cycle_days(),
            None
        );
    }
}

//! What a notice is about and who reads it: topics, audiences, the context mails are written in.

use chrono_tz::Tz;
use ducha_domain::ladder::Rung;

/// Notice states (`notice.state`).
pub const SKIPPED: &str = "SKIPPED";
pub const DIGEST: &str = "DIGEST";
pub const MAILED: &str = "MAILED";

/// Items listed per section of one mail; a reader with more is told how many more.
pub(super) const ITEMS_LISTED: usize = 50;

/// What mails need besides the data: where links point and which clock face dates use.
#[derive(Clone)]
pub struct NoticeContext {
    pub public_url: String,
    pub time_zone: Tz,
    /// Woken after a commit that wrote mail, so the sender delivers within seconds.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
    /// How long a verb's messages are held so that what else arises for the same reader or
    /// channel meanwhile goes with them as one (zero: at once).
    pub window: chrono::Duration,
    /// The working days instant messages wait for at night and on rest days.
    pub calendar: crate::calendar_store::CalendarStore,
    pub office_hours: ducha_calendar::OfficeHours,
}

impl NoticeContext {
    /// The item's stable address, the target of every mail link.
    pub fn item_link(&self, item_id: i64) -> String {
        format!("{}/items/{item_id}", self.public_url.trim_end_matches('/'))
    }
}

/// What a notice is about: a rung of the ladder, or the outcome of a verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Topic {
    Rung(Rung),
    /// 退回重办: the office rejected the completion report.
    Rework,
    /// 延期审批结果.
    Extension {
        approved: bool,
    },
    /// The office's answer to a unit's 退回: reassigned elsewhere, or kept with the unit.
    ReturnResolved {
        reassigned: bool,
    },
    /// 领导批示 on an item the unit holds.
    Instruction,
    /// Something on a task handed down between units (docs/rules.md §8).
    Task(TaskNews),
    /// A unit asks the office to act (docs/rules.md §4, "Who hears of what").
    Office(OfficeNews),
    /// The office, or the lead, changed what a unit on the item has to do.
    Item(ItemNews),
    /// 催办 by hand: the office's own line to the units of an item.
    Urge,
}

/// What a unit asked that the office acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OfficeNews {
    /// 延期申请: the office decides within its limit. Beyond it (`long`) only a leader may
    /// approve: the item's 责任领导 (`leader`), else the unit's 分管 leader, hears too.
    ExtensionAsked { long: bool, leader: Option<i64> },
    /// 办结反馈: the office verifies.
    FeedbackIn,
    /// 退回申请: the office reassigns or insists.
    ReturnAsked,
}

/// What changed for every unit still holding a part of the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ItemNews {
    Suspended,
    Resumed,
    Cancelled,
    /// 回头看: the closed item is open again.
    Reopened,
    /// The lead's first 办结反馈 ended the co-units' parts (docs/rules.md §3).
    LeadFedBack,
    /// The lead's approved extension carried the co-units' dues (docs/rules.md §2).
    CarriedByLead,
    /// Another unit's part was 改派 to a new unit after its return.
    Reassigned,
}

/// What happened to a task that someone must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskNews {
    /// 分解 or 转办 to the sub-unit reading it.
    HandedDown,
    /// The sub-unit reported its task done: the unit above verifies it.
    FeedbackIn,
    /// The unit above sent the task's report back.
    Rework,
    /// The unit above released the task.
    Waived,
    /// The sub-unit gave its task back before signing it: the unit above arranges it again.
    Returned,
    /// The sub-unit asks for a later due: the unit above decides.
    ExtensionAsked,
    /// The unit above approved the later due, or refused it.
    ExtensionApproved,
    ExtensionRefused,
    /// A task below turned red: the climb's rung for a unit above it (docs/rules.md §8).
    Red,
    /// A task below the part stayed red up every level: the office hears of it as the part's
    /// unit's problem.
    RedToOffice,
}

impl Topic {
    pub fn title(self) -> &'static str {
        match self {
            Topic::Rung(rung) => rung.title(),
            Topic::Rework => "退回重办通知",
            Topic::Extension { .. } => "延期审批结果",
            Topic::ReturnResolved { .. } => "退回申请处理结果",
            Topic::Instruction => "领导批示",
            Topic::Task(TaskNews::HandedDown) => "子任务交办通知",
            Topic::Task(TaskNews::FeedbackIn) => "子任务办结反馈待核查",
            Topic::Task(TaskNews::Rework) => "子任务退回重办通知",
            Topic::Task(TaskNews::Waived) => "子任务免除通知",
            Topic::Task(TaskNews::Returned) => "子任务退回通知",
            Topic::Task(TaskNews::ExtensionAsked) => "子任务延期申请",
            Topic::Task(TaskNews::ExtensionApproved | TaskNews::ExtensionRefused) => {
                "子任务延期审批结果"
            }
            Topic::Task(TaskNews::Red) => "下级任务红色预警",
            Topic::Task(TaskNews::RedToOffice) => "下级任务红色督办",
            Topic::Urge => "催办通知",
            Topic::Office(OfficeNews::ExtensionAsked { .. }) => "延期申请待审批",
            Topic::Office(OfficeNews::FeedbackIn) => "办结反馈待核查",
            Topic::Office(OfficeNews::ReturnAsked) => "退回申请待处理",
            Topic::Item(ItemNews::Suspended) => "事项挂起通知",
            Topic::Item(ItemNews::Resumed) => "事项恢复办理通知",
            Topic::Item(ItemNews::Cancelled) => "事项撤销通知",
            Topic::Item(ItemNews::Reopened) => "事项回头看通知",
            Topic::Item(ItemNews::LeadFedBack) => "主办单位已办结反馈",
            Topic::Item(ItemNews::CarriedByLead) => "协办期限顺延通知",
            Topic::Item(ItemNews::Reassigned) => "承办单位调整通知",
        }
    }

    /// Sections run most urgent first.
    pub(super) fn rank(self) -> u8 {
        match self {
            Topic::Rung(rung) => 10 + rung as u8,
            Topic::Rework => 20,
            Topic::Extension { .. } => 5,
            Topic::ReturnResolved { .. } => 4,
            Topic::Instruction => 6,
            Topic::Task(TaskNews::Rework) => 19,
            Topic::Task(TaskNews::FeedbackIn) => 8,
            Topic::Task(TaskNews::HandedDown) => 7,
            Topic::Task(TaskNews::Waived) => 3,
            Topic::Task(TaskNews::Returned) => 9,
            Topic::Task(TaskNews::ExtensionAsked) => 8,
            Topic::Task(TaskNews::ExtensionApproved | TaskNews::ExtensionRefused) => 5,
            Topic::Task(TaskNews::Red) => 18,
            Topic::Task(TaskNews::RedToOffice) => 18,
            Topic::Urge => 16,
            Topic::Office(OfficeNews::FeedbackIn) => 9,
            Topic::Office(OfficeNews::ExtensionAsked { .. }) => 8,
            Topic::Office(OfficeNews::ReturnAsked) => 8,
            Topic::Item(ItemNews::Reopened) => 17,
            Topic::Item(ItemNews::Resumed | ItemNews::CarriedByLead) => 7,
            Topic::Item(
                ItemNews::Suspended
                | ItemNews::Cancelled
                | ItemNews::LeadFedBack
                | ItemNews::Reassigned,
            ) => 2,
        }
    }

    /// How pressing the notice is, for the channels that take only some (SMS for red, say).
    pub fn level(self) -> crate::channels::Level {
        use crate::channels::Level;
        match self {
            Topic::Rung(Rung::Red) | Topic::Task(TaskNews::Red | TaskNews::RedToOffice) => {
                Level::Red
            }
            Topic::Rung(Rung::Yellow | Rung::ProgressMissed)
            | Topic::Rework
            | Topic::Task(TaskNews::Rework)
            | Topic::Item(ItemNews::Reopened)
            | Topic::Urge => Level::Yellow,
            _ => Level::All,
        }
    }

    /// Whether the notice goes to the office (and a leader) rather than to the unit of the
    /// assignment it is about.
    pub fn to_office(self) -> bool {
        matches!(self, Topic::Office(_) | Topic::Task(TaskNews::RedToOffice))
    }

    /// The stored kind of an event notice (rungs have their own).
    pub fn kind(self) -> &'static str {
        match self {
            Topic::Rung(rung) => rung.kind(),
            Topic::Rework => "REWORK",
            Topic::Extension { .. } => "EXTENSION",
            Topic::ReturnResolved { .. } => "RETURN",
            Topic::Instruction => "INSTRUCTION",
            Topic::Task(_) => "TASK",
            Topic::Office(_) => "OFFICE",
            Topic::Item(_) => "ITEM",
            Topic::Urge => "URGE",
        }
    }

    /// What the reader is asked to do, as their role allows.
    pub(super) fn ask(self, audience: Audience) -> &'static str {
        match (self, audience) {
            (Topic::Rung(Rung::Red), Audience::Leader) => {
                "以下事项由您分管的单位承办，已列为红色督办，请督促承办单位主要负责人抓好落实。"
            }
            (Topic::Rung(Rung::Red), Audience::Office) => {
                "以下事项已列为红色督办，请跟进督办，必要时约谈承办单位主要负责人。"
            }
            (Topic::Rung(Rung::Red), Audience::Unit) => {
                "以下事项列为红色督办，请单位主要负责人亲自抓落实，并向分管区领导报告。"
            }
            (Topic::Rung(Rung::Assigned), _) => {
                "以下事项已交办你单位，请于1个工作日内签收，并按办理要求在期限内落实；主办单位负责汇总、反馈办理结果，协办单位按分工配合。"
            }
            (Topic::Rung(Rung::NotSigned), _) => {
                "以下事项交办已超过1个工作日仍未签收，请尽快签收办理；如不属本单位职责，请说明理由申请退回。"
            }
            (Topic::Rung(Rung::ProgressDue), _) => {
                "以下事项本期进展报告即将到期，请按时报送阶段性办理进展。"
            }
            (Topic::Rung(Rung::ProgressMissed), _) => {
                "以下事项本期进展报告已超过报送期限仍未报送，请单位负责人督促经办人立即报送。"
            }
            (Topic::Rung(Rung::Blue), _) => {
                "以下事项即将到期，请抓紧办理并按期反馈；确需延期的，请在期限届满前提出申请。"
            }
            (Topic::Rung(Rung::Yellow), _) => {
                "以下事项已逾期或办结反馈被退回，请单位主要负责人督促落实，尽快反馈办理结果。"
            }
            (Topic::Rework, _) => {
                "以下事项的办结反馈经核查未通过，已退回重办，请按核查意见继续办理，办结后重新反馈。"
            }
            (Topic::Extension { approved: true }, _) => {
                "以下事项的延期申请已获批准，请按新的期限办理。"
            }
            (Topic::Extension { approved: false }, _) => {
                "以下事项的延期申请未获批准，请按原期限抓紧办理。"
            }
            (Topic::ReturnResolved { reassigned: true }, _) => {
                "你单位对以下事项的退回申请已同意，事项已改派其他单位办理。"
            }
            (Topic::ReturnResolved { reassigned: false }, _) => {
                "你单位对以下事项的退回申请未获同意，请继续办理。"
            }
            (Topic::Instruction, _) => {
                "区领导对以下事项作出批示，请认真研究落实，并在进展报告中反映落实情况。"
            }
            (Topic::Task(TaskNews::HandedDown), _) => {
                "上级单位将以下事项的办理任务分解（或转办）给你单位，请于1个工作日内签收，按具体措施在期限内落实，并向上级单位报送办结反馈。"
            }
            (Topic::Task(TaskNews::FeedbackIn), _) => {
                "下级单位已报送以下子任务的办结反馈，请及时核查：通过则办结，不通过请说明理由退回重办。"
            }
            (Topic::Task(TaskNews::Rework), _) => {
                "你单位以下子任务的办结反馈经上级单位核查未通过，已退回重办，请按核查意见继续办理。"
            }
            (Topic::Task(TaskNews::Waived), _) => "上级单位已免除你单位以下子任务，无需继续办理。",
            (Topic::Task(TaskNews::ExtensionAsked), _) => {
                "下级单位申请延长以下子任务的期限，请及时审批：同意则期限延至申请的日期，不同意请说明理由。"
            }
            (Topic::Task(TaskNews::ExtensionApproved), _) => {
                "你单位以下子任务的延期申请已获上级单位同意，请按新的期限办理。"
            }
            (Topic::Task(TaskNews::ExtensionRefused), _) => {
                "你单位以下子任务的延期申请未获上级单位同意，请按原期限抓紧办理。"
            }
            (Topic::Task(TaskNews::Returned), _) => {
                "下级单位退回了以下子任务（不属于其职责或无法承办），请重新安排：改交其他下级单位，或由本单位办理。"
            }
            (Topic::Task(TaskNews::Red), _) => {
                "你单位分解或转办的以下事项中，下级单位的子任务已列为红色，请单位主要负责人督促下级单位抓紧落实；每过一个工作日仍为红色，将再报上一级。"
            }
            (Topic::Task(TaskNews::RedToOffice), _) => {
                "以下事项的下级任务持续为红色，已逐级上报至承办单位仍未解决，请跟进督办承办单位。"
            }
            (Topic::Office(OfficeNews::ExtensionAsked { .. }), Audience::Leader) => {
                "以下事项的承办单位申请延期，延长超过原期限10个工作日，须由区领导审批，请及时审定。"
            }
            (Topic::Office(OfficeNews::ExtensionAsked { long: true, .. }), _) => {
                "以下事项的承办单位申请延期，延长超过原期限10个工作日，须由区领导审批；督查室可先行审核，不同意的可说明理由不予批准。"
            }
            (Topic::Office(OfficeNews::ExtensionAsked { long: false, .. }), _) => {
                "以下事项的承办单位申请延期，请及时审批：同意则期限延至申请的日期，不同意请说明理由。"
            }
            (Topic::Office(OfficeNews::FeedbackIn), _) => {
                "以下事项的主办单位已报送办结反馈，请及时核查：通过则核查通过，不通过请说明理由退回重办。"
            }
            (Topic::Office(OfficeNews::ReturnAsked), _) => {
                "以下事项的承办单位申请退回（认为不属于本单位职责或无法承办），请及时处理：改派其他单位，或说明理由由原单位继续办理。"
            }
            (Topic::Urge, _) => {
                "督查室对以下事项进行催办，请单位主要负责人督促抓紧办理，按期反馈，并及时报送进展。"
            }
            (Topic::Item(ItemNews::Suspended), _) => {
                "以下事项已挂起，挂起期间暂停计时，无需报送进展；恢复办理时将另行通知。"
            }
            (Topic::Item(ItemNews::Resumed), _) => {
                "以下事项已恢复办理，期限按挂起的工作日顺延，请按新的期限继续办理。"
            }
            (Topic::Item(ItemNews::Cancelled), _) => "以下事项已撤销，无需继续办理。",
            (Topic::Item(ItemNews::Reopened), _) => {
                "以下事项经回头看发现问题，已重新打开，请按要求继续整改落实，办结后重新报送办结反馈。"
            }
            (Topic::Item(ItemNews::Reassigned), _) => {
                "以下事项的承办单位有调整（原单位退回，已改派新单位），请与新的承办单位做好衔接，继续按分工办理。"
            }
            (Topic::Item(ItemNews::CarriedByLead), _) => {
                "以下事项的主办单位延期已获批准，你单位的协办期限随之顺延，请按新的期限配合办理。"
            }
            (Topic::Item(ItemNews::LeadFedBack), _) => {
                "以下事项的主办单位已报送办结反馈，你单位的协办部分随之结束，无需再报送进展；如有补充材料，请与主办单位联系。"
            }
        }
    }
}

/// Whose eyes a mail is for, which decides what it asks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Audience {
    Unit,
    Leader,
    Office,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reader {
    pub email: String,
    /// How the mail opens: a unit's contact address by the unit's name, a person by theirs.
    pub salutation: String,
    pub audience: Audience,
    /// The person, when the address is a person's own (not a unit's contact address).
    pub person_id: Option<i64>,
}

//! The API's enums: English names with Chinese descriptions, each mapped one to one onto
//! the domain's type it shows.

use async_graphql::Enum;

use crate::error::{AppError, AppResult};

macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident from $domain:path { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => $name::$variant),* }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => <$domain>::$variant),* }
            }
        }
    };
}

api_enum! {
    /// 会议类别
    MeetingKind from ducha_domain::MeetingKind {
        /// 区政府全体会议
        Plenary,
        /// 区政府党组会议
        PartyGroup,
        /// 区政府常务会议
        Executive,
        /// 区长办公会议
        MayorOffice,
        /// 区政府专题会议
        Topical,
        /// 其他会议
        Other,
    }
}

api_enum! {
    /// 事项所处阶段
    Stage from ducha_domain::Stage {
        /// 已立项
        Registered,
        /// 已交办
        Assigned,
        /// 承办中
        InProgress,
        /// 已反馈
        FeedbackSubmitted,
        /// 已核查
        Verified,
        /// 已销号
        Closed,
        /// 已挂起
        Suspended,
        /// 已撤销
        Cancelled,
    }
}

api_enum! {
    /// 用户角色
    Role from ducha_domain::Role {
        /// 系统管理员
        Admin,
        /// 督查室
        Supervisor,
        /// 区领导
        Leader,
        /// 承办单位主要负责人
        UnitHead,
        /// 承办单位经办人
        UnitStaff,
    }
}

api_enum! {
    /// 事项来源
    SourceKind from ducha_domain::SourceKind {
        /// 上级督查检查
        UpperInspection,
        /// 上级领导批示
        UpperLeaderInstruction,
        /// 本级领导批示、交办
        LeaderInstruction,
        /// 政府工作报告任务、民生实事
        GovWorkReport,
        /// 重要会议决定事项
        MeetingDecision,
        /// 重要文件贯彻落实
        KeyDocument,
        /// 重点项目、重大工程
        KeyProject,
        /// 审计整改
        AuditRectification,
        /// 人大代表建议
        NpcSuggestion,
        /// 政协提案
        CppccProposal,
        /// 社会热点难点
        HotIssue,
        /// 互联网+督查留言、媒体问政
        InternetMessage,
        /// 新闻媒体批评
        MediaCriticism,
        /// 信访、12345热线
        PetitionHotline,
        /// 其他交办事项
        Other,
    }
}

api_enum! {
    /// 紧急程度
    Urgency from ducha_domain::Urgency {
        /// 特急
        Critical,
        /// 急
        Urgent,
        /// 一般
        Normal,
    }
}

api_enum! {
    /// 蓝黄红三色
    Colour from ducha_domain::colour::Colour {
        /// 正常
        None,
        /// 蓝色：临期
        Blue,
        /// 黄色：逾期或被退回
        Yellow,
        /// 红色：严重逾期、多次退回或回头看发现问题
        Red,
    }
}

api_enum! {
    /// 单位类型
    UnitKind from entity::UnitKind {
        /// 部门
        Department,
        /// 街道
        Subdistrict,
        /// 园区
        Park,
        /// 乡镇
        Town,
        /// 其他
        Other,
    }
}

api_enum! {
    /// 交办记录状态
    AssignmentStatus from entity::AssignmentStatus {
        /// 承办中
        Active,
        /// 已申请退回，待督查室处理
        ReturnRequested,
        /// 已改派其他单位
        Withdrawn,
    }
}

/// 进展报送周期的计算单位
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportCycleUnit {
    /// 日历日（到期日遇节假日顺延至下一工作日）
    CalendarDays,
    /// 工作日
    WorkingDays,
}

/// 报告类别
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReportKind {
    /// 进展报告
    Progress,
    /// 办结反馈
    Feedback,
}

pub fn internal(what: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored value out of range: {what}"))
}

pub fn stage_of(text: &str) -> AppResult<Stage> {
    ducha_domain::Stage::parse(text)
        .map(Stage::from)
        .ok_or_else(|| internal(text))
}

// ---------- DataLoaders: one query per page, not per row ----------

//! The typed columns: each stored as its SCREAMING_SNAKE name (the API's spelling), read
//! back as an enum, so that a misspelt stage or role is a compile error rather than a row
//! that silently matches nothing.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Maps a column enum one to one onto the domain's type of the same meaning.
macro_rules! same_as_domain {
    ($column:ident, $domain:path { $($variant:ident),* $(,)? }) => {
        impl From<$column> for $domain {
            fn from(value: $column) -> Self {
                match value { $($column::$variant => <$domain>::$variant),* }
            }
        }

        impl From<$domain> for $column {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => $column::$variant),* }
            }
        }
    };
}

/// `item.stage`: a projection of the audit trail.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ItemStage {
    #[sea_orm(string_value = "REGISTERED")]
    Registered,
    #[sea_orm(string_value = "ASSIGNED")]
    Assigned,
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    #[sea_orm(string_value = "FEEDBACK_SUBMITTED")]
    FeedbackSubmitted,
    #[sea_orm(string_value = "VERIFIED")]
    Verified,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl ItemStage {
    /// A stage written as text (a raw query's row, an audit row's `from`).
    pub fn parse(text: &str) -> Option<ItemStage> {
        ducha_domain::Stage::parse(text).map(Into::into)
    }

    pub fn as_str(self) -> &'static str {
        ducha_domain::Stage::from(self).as_str()
    }

    /// The stages in which an item is open: its deadlines still matter.
    pub fn open() -> Vec<ItemStage> {
        ducha_domain::Stage::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .map(ItemStage::from)
            .collect()
    }
}

same_as_domain!(
    ItemStage,
    ducha_domain::Stage {
        Registered,
        Assigned,
        InProgress,
        FeedbackSubmitted,
        Verified,
        Closed,
        Suspended,
        Cancelled,
    }
);

/// `person.role`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PersonRole {
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "SUPERVISOR")]
    Supervisor,
    #[sea_orm(string_value = "LEADER")]
    Leader,
    #[sea_orm(string_value = "UNIT_HEAD")]
    UnitHead,
    #[sea_orm(string_value = "UNIT_STAFF")]
    UnitStaff,
}

same_as_domain!(
    PersonRole,
    ducha_domain::Role {
        Admin,
        Supervisor,
        Leader,
        UnitHead,
        UnitStaff,
    }
);

/// `assignment.status`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AssignmentStatus {
    /// Live: the unit carries the item.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// The unit asked the office to take the item back; the office has not answered.
    #[sea_orm(string_value = "RETURN_REQUESTED")]
    ReturnRequested,
    /// Reassigned elsewhere after a return: kept for the record, no longer live.
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

/// `unit.kind`: 部门, 街道, 园区, 乡镇, 其他.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum UnitKind {
    #[sea_orm(string_value = "DEPARTMENT")]
    Department,
    #[sea_orm(string_value = "SUBDISTRICT")]
    Subdistrict,
    #[sea_orm(string_value = "PARK")]
    Park,
    #[sea_orm(string_value = "TOWN")]
    Town,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// `report.verdict`: the office's verdict on a unit's completion report.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ReportVerdict {
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// `extension_request.decision`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ExtensionDecision {
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

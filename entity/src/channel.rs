use sea_orm::entity::prelude::*;

/// An address a notice can take besides mail: a group robot, a webhook, a person's mobile
/// for SMS, or the SMS platform itself. Owned by a unit, a person, or (neither) the office.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "channel")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// WECOM_ROBOT, DINGTALK_ROBOT, WEBHOOK, SMS (a person's mobile), SMS_ALIYUN, SMS_GATEWAY.
    pub kind: String,
    pub unit_id: Option<i64>,
    pub person_id: Option<i64>,
    pub name: String,
    /// Where it is sent: the robot's or webhook's URL without its key, a mobile number, the
    /// SMS platform's endpoint.
    #[sea_orm(column_type = "Text")]
    pub address: String,
    /// What is not secret: a template, a sign name, an access key's id, a rate per minute.
    pub settings: Json,
    /// Never read back out: a robot's key, a signing secret, an access key's secret.
    #[sea_orm(column_type = "Text", nullable)]
    pub secret: Option<String>,
    /// The notices it takes: ALL, YELLOW (黄色及以上) or RED (红色督办).
    pub from_level: String,
    pub enabled: bool,
    /// A try failed or was answered "too many": none of its messages is tried before then.
    pub paused_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

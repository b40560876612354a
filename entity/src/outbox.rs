use sea_orm::entity::prelude::*;

/// A message (an email, or one of another channel's) waiting to be delivered (PENDING), delivered (SENT) or given up on (FAILED).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notice_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    #[sea_orm(column_type = "Text")]
    pub body_html: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The sender holding this message (a token per claim), and until when; a claim that
    /// is not renewed lapses, so a dead sender's messages come back.
    pub claim: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    /// MAIL, or the kind of the `channel` row it goes through.
    pub channel: String,
    pub channel_id: Option<i64>,
    /// A webhook's JSON body, as signed and sent on every try.
    #[sea_orm(column_type = "Text", nullable)]
    pub payload: Option<String>,
    /// While the message is held for its window: the notices it lists, as JSON, so that
    /// more can join it.
    #[sea_orm(column_type = "Text", nullable)]
    pub digest: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

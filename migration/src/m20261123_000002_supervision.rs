//! The supervision model (docs/rules.md §5–2): units, people, items, assignments (one per item ×
//! unit), reports (progress and completion feedback), attachments, extension requests, and
//! the append-only audit trail.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
    Name,
    Kind,
    HeadName,
    Contacts,
    PortfolioLeaderId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
    Name,
    Email,
    Role,
    UnitId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Item {
    Table,
    Id,
    Serial,
    Year,
    Seq,
    Title,
    Requirements,
    SourceKind,
    SourceReference,
    Urgency,
    ResponsibleLeaderId,
    DeadlineRule,
    DeadlineExplicit,
    ReportCycleDays,
    Stage,
    AssignedAt,
    ClosedAt,
    ClosedOnTimeOriginal,
    ClosedOnTimeExtended,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
    ItemId,
    UnitId,
    Lead,
    Status,
    DueAt,
    ExtendedDueAt,
    CalendarVersion,
    Provisional,
    PausedWorkingDays,
    SignedAt,
    SignedBy,
    ReturnReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Report {
    Table,
    Id,
    ItemId,
    AssignmentId,
    Kind,
    Body,
    AuthorId,
    Verdict,
    VerdictReason,
    VerdictBy,
    VerdictAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Attachment {
    Table,
    Id,
    ReportId,
    FileName,
    ContentType,
    Size,
    Sha256,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ExtensionRequest {
    Table,
    Id,
    ItemId,
    AssignmentId,
    RequestedBy,
    Reason,
    ProposedDueAt,
    Decision,
    DecidedBy,
    DecidedAt,
    DecisionReason,
    CreatedAt,
}

/// Calendar years imported at runtime (holiday-cn JSON), layered over the bundled data.
#[derive(DeriveIden)]
enum CalendarYear {
    Table,
    Year,
    Data,
    ImportedBy,
    ImportedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    ItemId,
    AssignmentId,
    ActorId,
    At,
    Action,
    FromStage,
    ToStage,
    Reason,
    Details,
}

fn id<T: IntoIden>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Person::Table)
                    .col(id(Person::Id))
                    .col(ColumnDef::new(Person::Name).string().not_null())
                    .col(ColumnDef::new(Person::Email).string().null())
                    .col(ColumnDef::new(Person::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Person::UnitId).big_integer().null())
                    .col(
                        ColumnDef::new(Person::TokenHash)
                            .string_len(64)
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Person::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Unit::Table)
                    .col(id(Unit::Id))
                    .col(ColumnDef::new(Unit::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Unit::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Unit::HeadName).string().null())
                    .col(ColumnDef::new(Unit::Contacts).json().not_null())
                    .col(ColumnDef::new(Unit::PortfolioLeaderId).big_integer().null())
                    .col(
                        ColumnDef::new(Unit::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_unit_leader",
                        (Unit::Table, Unit::PortfolioLeaderId),
                        (Person::Table, Person::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Item::Table)
                    .col(id(Item::Id))
                    .col(
                        ColumnDef::new(Item::Serial)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Item::Year).integer().not_null())
                    .col(ColumnDef::new(Item::Seq).integer().not_null())
                    .col(ColumnDef::new(Item::Title).string().not_null())
                    .col(ColumnDef::new(Item::Requirements).text().not_null())
                    .col(ColumnDef::new(Item::SourceKind).string_len(32).not_null())
                    .col(ColumnDef::new(Item::SourceReference).string().not_null())
                    .col(ColumnDef::new(Item::Urgency).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Item::ResponsibleLeaderId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(Item::DeadlineRule).string().not_null())
                    .col(ColumnDef::new(Item::DeadlineExplicit).boolean().not_null())
                    .col(ColumnDef::new(Item::ReportCycleDays).integer().null())
                    .col(ColumnDef::new(Item::Stage).string_len(24).not_null())
                    .col(
                        ColumnDef::new(Item::AssignedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Item::ClosedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Item::ClosedOnTimeOriginal).boolean().null())
                    .col(ColumnDef::new(Item::ClosedOnTimeExtended).boolean().null())
                    .col(ColumnDef::new(Item::Version).integer().not_null())
                    .col(ColumnDef::new(Item::CreatedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(Item::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Item::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_item_leader",
                        (Item::Table, Item::ResponsibleLeaderId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_item_creator",
                        (Item::Table, Item::CreatedBy),
                        (Person::Table, Person::Id),
                    ))
                    .index(
                        Index::create()
                            .name("ux_item_year_seq")
                            .col(Item::Year)
                            .col(Item::Seq)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_item_stage")
                    .table(Item::Table)
                    .col(Item::Stage)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Assignment::Table)
                    .col(id(Assignment::Id))
                    .col(ColumnDef::new(Assignment::ItemId).big_integer().not_null())
                    .col(ColumnDef::new(Assignment::UnitId).big_integer().not_null())
                    .col(ColumnDef::new(Assignment::Lead).boolean().not_null())
                    .col(ColumnDef::new(Assignment::Status).string_len(24).not_null())
                    .col(
                        ColumnDef::new(Assignment::DueAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::ExtendedDueAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Assignment::CalendarVersion)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Assignment::Provisional).boolean().not_null())
                    .col(
                        ColumnDef::new(Assignment::PausedWorkingDays)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Assignment::SignedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Assignment::SignedBy).big_integer().null())
                    .col(ColumnDef::new(Assignment::ReturnReason).text().null())
                    .col(
                        ColumnDef::new(Assignment::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_assignment_item",
                        (Assignment::Table, Assignment::ItemId),
                        (Item::Table, Item::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_assignment_unit",
                        (Assignment::Table, Assignment::UnitId),
                        (Unit::Table, Unit::Id),
                    ))
                    .index(
                        Index::create()
                            .name("ux_assignment_item_unit")
                            .col(Assignment::ItemId)
                            .col(Assignment::UnitId)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_assignment_unit")
                    .table(Assignment::Table)
                    .col(Assignment::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Report::Table)
                    .col(id(Report::Id))
                    .col(ColumnDef::new(Report::ItemId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Report::AssignmentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Report::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Report::Body).text().not_null())
                    .col(ColumnDef::new(Report::AuthorId).big_integer().not_null())
                    .col(ColumnDef::new(Report::Verdict).string_len(16).null())
                    .col(ColumnDef::new(Report::VerdictReason).text().null())
                    .col(ColumnDef::new(Report::VerdictBy).big_integer().null())
                    .col(
                        ColumnDef::new(Report::VerdictAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Report::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_report_item",
                        (Report::Table, Report::ItemId),
                        (Item::Table, Item::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_report_assignment",
                        (Report::Table, Report::AssignmentId),
                        (Assignment::Table, Assignment::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_report_item")
                    .table(Report::Table)
                    .col(Report::ItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Attachment::Table)
                    .col(id(Attachment::Id))
                    .col(
                        ColumnDef::new(Attachment::ReportId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Attachment::FileName).string().not_null())
                    .col(ColumnDef::new(Attachment::ContentType).string().not_null())
                    .col(ColumnDef::new(Attachment::Size).big_integer().not_null())
                    .col(ColumnDef::new(Attachment::Sha256).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Attachment::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_attachment_report",
                        (Attachment::Table, Attachment::ReportId),
                        (Report::Table, Report::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExtensionRequest::Table)
                    .col(id(ExtensionRequest::Id))
                    .col(
                        ColumnDef::new(ExtensionRequest::ItemId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::AssignmentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::RequestedBy)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ExtensionRequest::Reason).text().not_null())
                    .col(
                        ColumnDef::new(ExtensionRequest::ProposedDueAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::Decision)
                            .string_len(16)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::DecidedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::DecidedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::DecisionReason)
                            .text()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ExtensionRequest::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_extension_assignment",
                        (ExtensionRequest::Table, ExtensionRequest::AssignmentId),
                        (Assignment::Table, Assignment::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CalendarYear::Table)
                    .col(
                        ColumnDef::new(CalendarYear::Year)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CalendarYear::Data).text().not_null())
                    .col(
                        ColumnDef::new(CalendarYear::ImportedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CalendarYear::ImportedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(id(AuditEvent::Id))
                    .col(ColumnDef::new(AuditEvent::ItemId).big_integer().null())
                    .col(
                        ColumnDef::new(AuditEvent::AssignmentId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(AuditEvent::ActorId).big_integer().null())
                    .col(
                        ColumnDef::new(AuditEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvent::Action).string_len(32).not_null())
                    .col(ColumnDef::new(AuditEvent::FromStage).string_len(24).null())
                    .col(ColumnDef::new(AuditEvent::ToStage).string_len(24).null())
                    .col(ColumnDef::new(AuditEvent::Reason).text().null())
                    .col(ColumnDef::new(AuditEvent::Details).json().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_item")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::ItemId)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

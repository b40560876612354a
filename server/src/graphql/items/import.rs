//! 台账导入 (`service::items::import`): upload a ledger, look at what each row would
//! become, commit the chosen rows in one transaction.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::io::Read;

use crate::error::AppError;
use crate::graphql::calendar::Deadline;
use crate::graphql::context::verb_context;
use crate::graphql::enums::{SourceKind, Urgency};
use crate::service::items::import::{self, ImportPreview, RowPlan};

/// 一批上传的台账：各行将成为什么；导入后为导入报告
#[derive(SimpleObject)]
pub struct LedgerImport {
    /// 导入批次编号
    pub database_id: i64,
    /// 上传的文件名
    pub file_name: String,
    /// 文件的读取方式，如“CSV，GBK编码”
    pub read_as: String,
    /// 上传时间
    pub created_at: DateTime<Utc>,
    /// 未填来源的行所用的来源
    pub default_source: SourceKind,
    /// 导入时间；未导入为空
    pub committed_at: Option<DateTime<Utc>>,
    /// 文件中不读取的列
    pub passed_over: Vec<String>,
    /// 各行按当前数据试算的结果（导入后为空，见 created）
    pub rows: Vec<LedgerImportRow>,
    /// 导入后：每个导入的行成为的事项
    pub created: Vec<ImportedRow>,
}

/// 台账中的一行将成为的事项
#[derive(SimpleObject)]
pub struct LedgerImportRow {
    /// 在文件中的行号
    pub line: i32,
    /// 事项标题
    pub title: String,
    /// 办理要求（文件未填时同事项标题）
    pub requirements: String,
    /// 事项来源
    pub source_kind: SourceKind,
    /// 来源文号
    pub source_reference: String,
    /// 紧急程度
    pub urgency: Urgency,
    /// 责任领导姓名
    pub leader: Option<String>,
    /// 主办单位（填了即一并交办）
    pub lead_unit: Option<String>,
    /// 协办单位
    pub co_units: Vec<String>,
    /// 期限规则的规范写法
    pub deadline_rule: Option<String>,
    /// 规则是来源类别的默认规则（文件未填）
    pub default_rule: bool,
    /// 今天交办时主办单位的期限（无主办单位时为今天起算的期限）
    pub due: Option<Deadline>,
    /// 可以导入（没有必须修改的问题）
    pub importable: bool,
    /// 预览时默认勾选（没有任何问题）
    pub chosen_by_default: bool,
    /// 该行的问题（必须修改的和提示）
    pub problems: Vec<ImportProblem>,
}

/// 一行的问题，在其单元格旁
#[derive(SimpleObject)]
pub struct ImportProblem {
    /// 所在列（模板中的列名）
    pub column: String,
    /// 所在单元格，如“第5行H列（主办单位）”
    pub cell: String,
    /// 问题说明
    pub message: String,
    /// 必须修改才能导入（否则只是提示，取消勾选）
    pub blocking: bool,
}

/// 导入的一行成为的事项
#[derive(SimpleObject)]
pub struct ImportedRow {
    /// 在文件中的行号
    pub line: i32,
    /// 事项编号（数据库编号）
    pub item_database_id: i64,
    /// 督办编号
    pub serial: String,
    /// 事项标题
    pub title: String,
    /// 已一并交办
    pub assigned: bool,
}

fn line_numbers(lines: Vec<i32>) -> Result<Vec<usize>, AppError> {
    lines
        .into_iter()
        .map(|l| usize::try_from(l).map_err(|_| AppError::BadUserInput(format!("行号{l}无效"))))
        .collect()
}

fn line_number(line: usize) -> i32 {
    i32::try_from(line).unwrap_or(i32::MAX)
}

fn row_of(plan: RowPlan, letters: &[(ducha_report::import::Field, String)]) -> LedgerImportRow {
    let letter = |field| {
        letters
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, l)| l.as_str())
            .to_string()
    };
    LedgerImportRow {
        line: line_number(plan.line),
        importable: plan.importable(),
        chosen_by_default: plan.chosen_by_default(),
        problems: plan
            .problems
            .iter()
            .map(|p| ImportProblem {
                column: p.field.header().to_string(),
                cell: format!(
                    "第{}行{}列（{}）",
                    plan.line,
                    letter(p.field),
                    p.field.header()
                ),
                message: p.message.clone(),
                blocking: p.blocking,
            })
            .collect(),
        title: plan.title,
        requirements: plan.requirements,
        source_kind: plan.source_kind.into(),
        source_reference: plan.source_reference,
        urgency: plan.urgency.into(),
        leader: plan.leader.map(|(_, name)| name),
        lead_unit: plan.lead_unit.map(|(_, name)| name),
        co_units: plan.co_units.into_iter().map(|(_, name)| name).collect(),
        deadline_rule: plan.rule.map(|(rule, _)| rule.to_string()),
        default_rule: plan.rule.is_some_and(|(_, explicit)| !explicit),
        due: plan.due.map(Deadline::from),
    }
}

impl From<ImportPreview> for LedgerImport {
    fn from(preview: ImportPreview) -> LedgerImport {
        let letters = preview.letters.clone();
        LedgerImport {
            database_id: preview.import.id,
            file_name: preview.import.file_name,
            read_as: preview.import.read_as,
            created_at: preview.import.created_at,
            default_source: ducha_domain::SourceKind::parse(&preview.import.default_source)
                .unwrap_or(ducha_domain::SourceKind::LeaderInstruction)
                .into(),
            committed_at: preview.import.committed_at,
            passed_over: preview.passed_over,
            rows: preview
                .rows
                .into_iter()
                .map(|r| row_of(r, &letters))
                .collect(),
            created: preview
                .created
                .into_iter()
                .map(|c| ImportedRow {
                    line: line_number(c.line),
                    item_database_id: c.item_id,
                    serial: c.serial,
                    title: c.title,
                    assigned: c.assigned,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// 一批上传的台账（督查室）：未导入时给出各行按当前数据的试算，导入后为导入报告
    async fn ledger_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "导入批次编号")] database_id: i64,
    ) -> async_graphql::Result<LedgerImport> {
        Ok(import::preview(verb_context(ctx)?, database_id)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// 上传台账（督查室）：XLSX 或 CSV（UTF-8 或 GBK），不超过20MB、10000行；只读取并保存各行，不立项
    async fn upload_ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "台账文件")] file: async_graphql::Upload,
        #[graphql(
            desc = "文件中未填来源的行所用的来源",
            default_with = "SourceKind::LeaderInstruction"
        )]
        default_source: SourceKind,
    ) -> async_graphql::Result<LedgerImport> {
        let cx = verb_context(ctx)?;
        crate::service::items::verb::require(cx.actor, ducha_domain::Action::Register)?;
        let upload = file
            .value(ctx)
            .map_err(|e| AppError::BadUserInput(format!("文件读取失败：{e}")))?;
        let limit = ducha_report::import::MAX_FILE_BYTES;
        let size = upload.content.metadata().map(|m| m.len()).unwrap_or(0);
        if size > limit as u64 {
            return Err(AppError::BadUserInput(format!(
                "“{}”超过{}MB，请拆分后分批导入",
                upload.filename,
                limit / 1024 / 1024
            ))
            .into());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut content = upload.content;
        content
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::BadUserInput(format!("文件读取失败：{e}")))?;
        let id =
            import::upload(cx.clone(), &upload.filename, &bytes, default_source.into()).await?;
        Ok(import::preview(cx, id).await?.into())
    }

    /// 导入勾选的行（督查室）：在一个事务中全部立项（填了主办单位的一并交办），任一行不能导入则全部不导入
    async fn commit_ledger_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "导入批次编号")] database_id: i64,
        #[graphql(desc = "要导入的行（文件中的行号）")] lines: Vec<i32>,
        #[graphql(
            desc = "预览时提示可能重复、仍确认导入的行（文件中的行号）；未列出的行若可能重复，则不导入并提示刷新预览",
            default
        )]
        acknowledged_duplicates: Vec<i32>,
    ) -> async_graphql::Result<LedgerImport> {
        let cx = verb_context(ctx)?;
        let lines = line_numbers(lines)?;
        let acknowledged = line_numbers(acknowledged_duplicates)?;
        import::commit(cx.clone(), database_id, &lines, &acknowledged).await?;
        Ok(import::preview(cx, database_id).await?.into())
    }
}

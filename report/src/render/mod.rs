//! The report in the three formats leaders and offices use: an HTML page with charts that
//! prints on A4, an XLSX workbook (one sheet per table) and CSV. Charts come from
//! `charts-rs`, the workbook from `rust_xlsxwriter`, CSV from `csv`.

mod csv_table;
mod html;
mod ledger;
mod xlsx;

pub use csv_table::csv;
pub use html::{Lists, MAIL_LIST_ROWS, html, mail_html, register_chart_font};
pub use ledger::{
    LEDGER_HEADERS, LedgerRow, TemplateHelp, ledger_csv, ledger_template, ledger_xlsx,
    looks_like_formula, neutralise,
};
pub use xlsx::xlsx;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("chart: {0}")]
    Chart(String),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] ::csv::Error),
}

pub(crate) fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.1}%"))
        .unwrap_or_else(|| "—".into())
}

//! A `Date` scalar (YYYY-MM-DD, a calendar date in Asia/Shanghai) with a clear Chinese error,
//! rather than async-graphql's `NaiveDate`, whose name leaks a Rust type into the API.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// 日期，格式 YYYY-MM-DD，按本地时区（Asia/Shanghai）
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("日期格式应为 YYYY-MM-DD，收到“{text}”"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

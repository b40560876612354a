//! Relay's object identification: every object a client may fetch again has an opaque,
//! global `id: ID!` (base64 of `Item:61`, as graphql-relay writes them) and is found by
//! `node(id:)`; its row number stays readable as `databaseId` (the N of `/items/N`).
//!
//! Arguments that name an object take an `ID` of their kind: the global id (whose kind
//! is checked — a unit's id is not an item's), or the plain row number, which people type in
//! GraphiQL and scripts have kept. Each kind is its own Rust type, all called `ID` in the
//! schema (`Schema::build_with_ignore_name_conflicts`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::service::store::read;

/// The kinds of object `node(id:)` finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Item,
    Unit,
    Person,
    Assignment,
    Report,
    ExtensionRequest,
    Attachment,
    Task,
}

impl NodeKind {
    const ALL: [NodeKind; 8] = [
        NodeKind::Item,
        NodeKind::Unit,
        NodeKind::Person,
        NodeKind::Assignment,
        NodeKind::Report,
        NodeKind::ExtensionRequest,
        NodeKind::Attachment,
        NodeKind::Task,
    ];

    /// The GraphQL type's name, which the global id carries.
    pub fn type_name(self) -> &'static str {
        match self {
            NodeKind::Item => "Item",
            NodeKind::Unit => "Unit",
            NodeKind::Person => "Person",
            NodeKind::Assignment => "Assignment",
            NodeKind::Report => "Report",
            NodeKind::ExtensionRequest => "ExtensionRequest",
            NodeKind::Attachment => "Attachment",
            NodeKind::Task => "Task",
        }
    }

    /// The table of a kind found through its item (`service::store::read::item_of`).
    pub fn table(self) -> read::ItemPart {
        match self {
            NodeKind::Assignment => read::ItemPart::Assignment,
            NodeKind::Report => read::ItemPart::Report,
            NodeKind::ExtensionRequest => read::ItemPart::ExtensionRequest,
            NodeKind::Attachment => read::ItemPart::Attachment,
            NodeKind::Task => read::ItemPart::Task,
            NodeKind::Item | NodeKind::Unit | NodeKind::Person => read::ItemPart::Item,
        }
    }

    fn label(self) -> &'static str {
        match self {
            NodeKind::Item => "督办事项",
            NodeKind::Unit => "单位",
            NodeKind::Person => "人员",
            NodeKind::Assignment => "交办记录",
            NodeKind::Report => "报送记录",
            NodeKind::ExtensionRequest => "延期申请",
            NodeKind::Attachment => "附件",
            NodeKind::Task => "子任务",
        }
    }
}

/// `base64("Item:61")`.
pub fn encode(kind: NodeKind, number: i64) -> String {
    STANDARD.encode(format!("{}:{number}", kind.type_name()))
}

/// The kind and row number of a global id, if `text` is one.
pub fn decode(text: &str) -> Option<(NodeKind, i64)> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    let plain = std::str::from_utf8(&bytes).ok()?;
    let (name, number) = plain.split_once(':')?;
    let kind = NodeKind::ALL.into_iter().find(|k| k.type_name() == name)?;
    let number = number.parse::<i64>().ok().filter(|n| *n > 0)?;
    Some((kind, number))
}

/// The row number `value` names for an argument of `kind`.
fn parse_for(kind: NodeKind, value: &Value) -> Result<i64, String> {
    let shown = |text: &str| text.chars().take(40).collect::<String>();
    match value {
        Value::Number(n) => n
            .as_i64()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{}编号应为正整数或全局标识", kind.label())),
        Value::String(text) => {
            if let Ok(number) = text.trim().parse::<i64>() {
                return (number > 0)
                    .then_some(number)
                    .ok_or_else(|| format!("{}编号应为正整数", kind.label()));
            }
            match decode(text) {
                Some((found, number)) if found == kind => Ok(number),
                Some((found, _)) => Err(format!(
                    "标识“{}”属于{}，此处应为{}",
                    shown(text),
                    found.label(),
                    kind.label()
                )),
                None => Err(format!("“{}”不是有效的{}标识", shown(text), kind.label())),
            }
        }
        _ => Err(format!("{}标识应为字符串（ID）", kind.label())),
    }
}

/// Any object's global id: what `id` fields answer and `node(id:)` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub number: i64,
}

impl GlobalId {
    pub fn new(kind: NodeKind, number: i64) -> GlobalId {
        GlobalId { kind, number }
    }
}

/// 全局唯一标识（不透明字符串，可用于 node(id:) 查询）；作为参数时也接受数据库编号
#[Scalar(name = "ID")]
impl ScalarType for GlobalId {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => decode(text)
                .map(|(kind, number)| GlobalId { kind, number })
                .ok_or_else(|| {
                    InputValueError::custom(format!(
                        "“{}”不是有效的全局标识",
                        text.chars().take(40).collect::<String>()
                    ))
                }),
            _ => Err(InputValueError::custom("全局标识应为字符串（ID）")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(encode(self.kind, self.number))
    }
}

macro_rules! typed_id {
    ($($name:ident => $kind:ident),* $(,)?) => {
        $(
            #[doc = concat!("An argument naming a ", stringify!($kind), ": its global id or row number.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $name(pub i64);

            /// 全局唯一标识（不透明字符串，可用于 node(id:) 查询）；作为参数时也接受数据库编号
            #[Scalar(name = "ID")]
            impl ScalarType for $name {
                fn parse(value: Value) -> InputValueResult<Self> {
                    parse_for(NodeKind::$kind, &value)
                        .map($name)
                        .map_err(InputValueError::custom)
                }

                fn to_value(&self) -> Value {
                    Value::String(encode(NodeKind::$kind, self.0))
                }
            }

            impl From<$name> for i64 {
                fn from(id: $name) -> i64 {
                    id.0
                }
            }
        )*
    };
}

typed_id!(
    ItemId => Item,
    UnitId => Unit,
    PersonId => Person,
    AssignmentId => Assignment,
    ReportId => Report,
    ExtensionRequestId => ExtensionRequest,
    AttachmentId => Attachment,
    TaskId => Task,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_keep_their_kind() {
        let text = encode(NodeKind::Item, 61);
        assert_eq!(text, "SXRlbTo2MQ==");
        assert_eq!(decode(&text), Some((NodeKind::Item, 61)));
        assert_eq!(
            parse_for(NodeKind::Item, &Value::String(text.clone())),
            Ok(61)
        );
        assert!(parse_for(NodeKind::Unit, &Value::String(text)).is_err());
        assert_eq!(parse_for(NodeKind::Unit, &Value::from(12)), Ok(12));
        assert_eq!(
            parse_for(NodeKind::Unit, &Value::String("12".into())),
            Ok(12)
        );
        assert!(parse_for(NodeKind::Unit, &Value::from(-1)).is_err());
        assert!(decode("not base64!").is_none());
        assert!(decode(&STANDARD.encode("Item:-3")).is_none());
        assert!(decode(&STANDARD.encode("Secret:3")).is_none());
    }
}

//! The Relay `Node` interface over every object with a global id.

use super::assignment::Assignment;
use super::item::Item;
use super::org::{Person, Unit};
use super::records::{Attachment, ExtensionRequest, Report};
use super::task::Task;
use crate::graphql::ids::GlobalId;

/// 可按全局标识取得的对象（Relay 规范的 Node 接口）
#[derive(async_graphql::Interface)]
#[graphql(field(name = "id", ty = "GlobalId", desc = "全局标识（不透明）"))]
pub enum Node {
    Item(Item),
    Unit(Unit),
    Person(Person),
    Assignment(Assignment),
    Report(Report),
    ExtensionRequest(ExtensionRequest),
    Attachment(Attachment),
    Task(Task),
}

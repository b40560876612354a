//! Items and assignments decoded by column position (`service::store::rows`) are the rows sea-orm
//! decodes by name, field by field, on every row of the demo district.

use ducha_server::service::store::rows::{self, ByPosition};
use entity::{assignment, item};
use sea_orm::{ColumnTrait, EntityTrait, Iterable, QueryFilter, QueryOrder};

use crate::helpers::{Backend, spawn_demo_on};

on_both_backends!(rows_decoded_by_position_are_the_rows_decoded_by_name);

async fn rows_decoded_by_position_are_the_rows_decoded_by_name(backend: Backend) {
    assert_eq!(
        item::Model::COLUMNS.len(),
        item::Column::iter().count(),
        "every column of item is decoded"
    );
    assert_eq!(
        assignment::Model::COLUMNS.len(),
        assignment::Column::iter().count(),
        "every column of assignment is decoded"
    );
    let (app, _) = spawn_demo_on(backend).await;
    let db = &app.state.db;
    let by_name = item::Entity::find()
        .order_by_asc(item::Column::Id)
        .all(db)
        .await
        .expect("items by name");
    let by_position = rows::all(db, item::Entity::find().order_by_asc(item::Column::Id))
        .await
        .expect("items by position");
    assert!(by_name.len() > 5, "the demo has items");
    assert_eq!(by_position, by_name);
    assert!(
        by_name.iter().any(|i| i.closed_at.is_some())
            && by_name.iter().any(|i| i.closed_at.is_none()),
        "NULL and non-NULL columns were both decoded"
    );

    let assignments_by_name = assignment::Entity::find()
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await
        .expect("assignments by name");
    let assignments_by_position = rows::all(
        db,
        assignment::Entity::find().order_by_asc(assignment::Column::Id),
    )
    .await
    .expect("assignments by position");
    assert_eq!(assignments_by_position, assignments_by_name);

    // One item with its assignments by a LEFT JOIN, for every item: those with none too.
    let mut without_assignments = 0;
    for item in &by_name {
        let joined = rows::items_with_assignments(
            db,
            item::Entity::find().filter(item::Column::Id.eq(item.id)),
        )
        .await
        .expect("item with assignments");
        let own: Vec<assignment::Model> = assignments_by_name
            .iter()
            .filter(|a| a.item_id == item.id)
            .cloned()
            .collect();
        without_assignments += usize::from(own.is_empty());
        assert_eq!(joined, vec![(item.clone(), own)], "item {}", item.serial);
    }
    assert!(
        without_assignments > 0,
        "the demo has items not yet assigned"
    );
}

//! The demo district: believable, in every stage and from every source kind, and its
//! history consistent — each item's stage is exactly where its audit trail ends.

use std::collections::HashSet;

use ducha_server::demo;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

use crate::helpers::{Backend, spawn_app_on};

#[tokio::test]
async fn the_demo_district_covers_every_stage_and_source_kind_and_loads_once() {
    let app = spawn_app_on(Backend::Sqlite).await;
    let tokens = demo::load(&app.state)
        .await
        .expect("demo loads")
        .expect("empty database");
    assert!(
        demo::load(&app.state).await.expect("second run").is_none(),
        "loads only into an empty database"
    );

    let items = entity::item::Entity::find()
        .all(&app.state.db)
        .await
        .expect("items");
    assert_eq!(items.len(), 60);
    let stages: HashSet<&str> = items.iter().map(|i| i.stage.as_str()).collect();
    for stage in ducha_domain::Stage::ALL {
        assert!(
            stages.contains(stage.as_str()),
            "no demo item in {}",
            stage.as_str()
        );
    }
    let kinds: HashSet<&str> = items.iter().map(|i| i.source_kind.as_str()).collect();
    assert_eq!(kinds.len(), ducha_domain::SourceKind::ALL.len());
    let units = entity::unit::Entity::find()
        .all(&app.state.db)
        .await
        .expect("units");
    assert_eq!(
        units
            .iter()
            .filter(|u| u.kind == entity::UnitKind::Department)
            .count(),
        22
    );
    assert_eq!(
        units
            .iter()
            .filter(|u| u.kind == entity::UnitKind::Subdistrict)
            .count(),
        8
    );

    // The stage column is a projection of the audit trail: the last stage change of each item.
    let events = entity::audit_event::Entity::find()
        .order_by_asc(entity::audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .expect("events");
    for item in &items {
        let last = events
            .iter()
            .rfind(|e| e.item_id == Some(item.id) && e.to_stage.is_some())
            .and_then(|e| e.to_stage.clone());
        assert_eq!(
            last.as_deref(),
            Some(item.stage.as_str()),
            "{}",
            item.serial
        );
    }

    // Each printed token works and carries its role.
    for (token, role) in [
        (&tokens.admin, "ADMIN"),
        (&tokens.supervisor, "SUPERVISOR"),
        (&tokens.leader, "LEADER"),
        (&tokens.unit_head, "UNIT_HEAD"),
        (&tokens.unit_staff, "UNIT_STAFF"),
    ] {
        let me = app
            .graphql_as(Some(token), "{ me { role } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["role"], role);
    }
    let head_items = app
        .graphql_as(
            Some(&tokens.unit_head),
            "{ items(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let seen = head_items["data"]["items"]["edges"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert!(
        seen > 0 && seen < 60,
        "a unit head sees some items, not all: {seen}"
    );
    let page = app
        .graphql_as(
            Some(&tokens.leader),
            "{ items(first: 101) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&page),
        "BAD_USER_INPUT",
        "first is capped at 100"
    );
}

//! 进展反馈 as the rows it writes (issue 32 writes it in one statement): the report, the
//! report cycle it restarts only ever later, and its audit row naming the report; and nothing
//! at all for a unit without a part. On SQLite and on PostgreSQL.

use entity::{assignment, audit_event, report};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use serde_json::{Value, json};

use crate::district::{District, assigned_item, item_row, m, ok, refused};
use crate::helpers::{Backend, TestApp, shanghai, spawn_app_on};

on_both_backends!(a_progress_report_is_its_report_its_cycle_and_its_audit_row);

const REPORT: &str = "report { databaseId kind body author { name } }";

async fn report_progress(app: &TestApp, token: &str, item_id: &Value, body: &str) -> Value {
    ok(
        app,
        token,
        &m("reportProgress", "ReportProgressInput", REPORT),
        json!({ "itemId": item_id, "body": body }),
    )
    .await["report"]
        .clone()
}

async fn parts(app: &TestApp, item_id: i64) -> Vec<assignment::Model> {
    assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .order_by_asc(assignment::Column::Id)
        .all(&app.state.db)
        .await
        .expect("assignments")
}

async fn progress_trail(app: &TestApp, item_id: i64) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ItemId.eq(item_id))
        .filter(audit_event::Column::Action.eq("REPORT_PROGRESS"))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .expect("audit rows")
}

async fn a_progress_report_is_its_report_its_cycle_and_its_audit_row(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let d = District::create(&app).await;
    let item = assigned_item(&app, &d, "关于推进背街小巷整治的批示").await;
    let item_id = item_row(&app, &item).await.id;
    let [lead, co] = <[assignment::Model; 2]>::try_from(parts(&app, item_id).await)
        .expect("a lead and a co-unit");
    assert_eq!(lead.unit_id, d.housing);
    assert_eq!(lead.last_report_at, None);

    let first_at = shanghai(2026, 10, 9, 10, 30);
    app.clock.set(first_at);
    let first = report_progress(
        &app,
        &d.housing_staff,
        &item["id"],
        "已完成摸底，形成整治清单",
    )
    .await;
    assert_eq!(first["kind"], "PROGRESS");
    assert_eq!(first["author"]["name"], "钱科员");
    let first_id = first["databaseId"].as_i64().expect("report id");

    let stored = report::Entity::find_by_id(first_id)
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the report is stored");
    assert_eq!(stored.item_id, item_id);
    assert_eq!(
        stored.assignment_id, lead.id,
        "filed on the unit's own part"
    );
    assert_eq!(stored.kind, "PROGRESS");
    assert_eq!(stored.body, "已完成摸底，形成整治清单");
    assert_eq!(stored.created_at, first_at);
    assert_eq!(stored.verdict, None);

    let [lead_now, co_now] =
        <[assignment::Model; 2]>::try_from(parts(&app, item_id).await).expect("two parts");
    assert_eq!(
        lead_now.last_report_at,
        Some(first_at),
        "the report cycle restarts"
    );
    assert_eq!(
        co_now.last_report_at, co.last_report_at,
        "the co-unit's cycle is its own"
    );

    let trail = progress_trail(&app, item_id).await;
    assert_eq!(trail.len(), 1, "one audit row: {trail:?}");
    let row = &trail[0];
    assert_eq!(row.assignment_id, Some(lead.id));
    assert_eq!(row.actor_id, Some(stored.author_id));
    assert_eq!(row.at, first_at);
    assert_eq!(
        (row.from_stage.as_deref(), row.to_stage.as_deref()),
        (None, None)
    );
    assert_eq!(row.reason, None);
    assert_eq!(row.details, json!({ "reportId": first_id }));
    // And in the very text the other audit rows' details have: PostgreSQL keeps a `json`
    // column's text as written, and sea-orm's rows pass through `jsonb` there.
    let backend = app.state.db.get_database_backend();
    let text = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT CAST(details AS TEXT) AS details FROM audit_event WHERE id = {}",
                row.id
            ),
        ))
        .await
        .expect("query")
        .expect("the row")
        .try_get::<String>("", "details")
        .expect("text");
    let expected = match backend {
        DatabaseBackend::Postgres => format!("{{\"reportId\": {first_id}}}"),
        _ => format!("{{\"reportId\":{first_id}}}"),
    };
    assert_eq!(text, expected);

    // A report with an earlier instant (a clock set back) is kept, and the cycle is not
    // moved back by it.
    let earlier_at = shanghai(2026, 10, 9, 9, 0);
    app.clock.set(earlier_at);
    let earlier = report_progress(&app, &d.housing_staff, &item["id"], "补报：前期调研情况").await;
    let earlier_id = earlier["databaseId"].as_i64().expect("report id");
    assert!(earlier_id > first_id);
    let lead_now = &parts(&app, item_id).await[0];
    assert_eq!(lead_now.last_report_at, Some(first_at), "only ever later");
    let trail = progress_trail(&app, item_id).await;
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[1].details, json!({ "reportId": earlier_id }));

    // The co-unit files on its own part.
    let later_at = shanghai(2026, 10, 9, 16, 0);
    app.clock.set(later_at);
    let by_co = report_progress(&app, &d.urban_head, &item["id"], "配合完成占道清理").await;
    let by_co_id = by_co["databaseId"].as_i64().expect("report id");
    let [lead_now, co_now] =
        <[assignment::Model; 2]>::try_from(parts(&app, item_id).await).expect("two parts");
    assert_eq!(lead_now.last_report_at, Some(first_at));
    assert_eq!(co_now.last_report_at, Some(later_at));
    let trail = progress_trail(&app, item_id).await;
    assert_eq!(trail.len(), 3);
    assert_eq!(trail[2].assignment_id, Some(co.id));
    assert_eq!(trail[2].details, json!({ "reportId": by_co_id }));

    // A unit without a part, and an item that does not exist: refused, nothing written.
    let before = row_counts(&app).await;
    let mutation = m("reportProgress", "ReportProgressInput", REPORT);
    let refusal = |token: &str, item_id: Value, body: &str| {
        let (token, mutation) = (token.to_string(), mutation.clone());
        let input = json!({ "itemId": item_id, "body": body });
        let app = &app;
        async move { refused(app, Some(&token), &mutation, input).await }
    };
    assert_eq!(
        refusal(&d.street_head, item["id"].clone(), "越权报送").await,
        "NOT_FOUND"
    );
    assert_eq!(
        refusal(&d.housing_staff, json!("999999"), "不存在的事项").await,
        "NOT_FOUND"
    );
    assert_eq!(
        refusal(&d.housing_staff, item["id"].clone(), "   ").await,
        "BAD_USER_INPUT"
    );
    assert_eq!(row_counts(&app).await, before, "nothing written");
    // A suspended item takes no report (the domain's table), on either path.
    let version = item_row(&app, &item).await.version;
    ok(
        &app,
        &d.supervisor,
        &m("suspendItem", "ItemReasonInput", "item { stage }"),
        json!({ "itemId": item["id"], "version": version, "reason": "等待规划调整" }),
    )
    .await;
    let before = row_counts(&app).await;
    assert_eq!(
        refusal(&d.housing_staff, item["id"].clone(), "挂起期间的进展").await,
        "INVALID_TRANSITION"
    );
    assert_eq!(row_counts(&app).await, before, "nothing written");
}

/// How many reports and audit rows there are.
async fn row_counts(app: &TestApp) -> (usize, usize) {
    let reports = report::Entity::find()
        .all(&app.state.db)
        .await
        .expect("reports");
    let trail = audit_event::Entity::find()
        .all(&app.state.db)
        .await
        .expect("audit rows");
    (reports.len(), trail.len())
}

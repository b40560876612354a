//! `ducha serve --demo`: a believable district so a newcomer sees real data in GraphiQL at
//! once — 22 departments, 8 subdistricts and a park, office staff and leaders, and 60 items
//! in every stage and from every source kind, with a history made through the same service
//! functions the API uses (so the audit trail, due instants and versions are all real).

use chrono::Duration;
use ducha_domain::{Action, Role, SourceKind, Urgency};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::auth::Actor;
use crate::error::AppResult;
use crate::service::items::verb::Cx;
use crate::service::items::{self as verbs, RegisterInput};
use crate::service::org::{self, NewPerson, NewUnit};
use crate::state::AppState;
use entity::UnitKind;

const DEPARTMENTS: [&str; 22] = [
    "区发展和改革局",
    "区教育和体育局",
    "区科学技术局",
    "区工业和信息化局",
    "区公安分局",
    "区民政局",
    "区司法局",
    "区财政局",
    "区人力资源和社会保障局",
    "区自然资源局",
    "区生态环境分局",
    "区住房和城乡建设局",
    "区城市管理局",
    "区交通运输局",
    "区水务局",
    "区农业农村局",
    "区商务局",
    "区文化和旅游局",
    "区卫生健康局",
    "区应急管理局",
    "区市场监督管理局",
    "区审计局",
];

const SUBDISTRICTS: [&str; 8] = [
    "东山街道办事处",
    "西湖街道办事处",
    "南苑街道办事处",
    "北岭街道办事处",
    "中心街道办事处",
    "滨河街道办事处",
    "新华街道办事处",
    "幸福街道办事处",
];

/// (title, requirements) pairs; each is used once, with a source kind chosen in turn.
const TOPICS: [(&str, &str); 30] = [
    (
        "老旧小区改造进度滞后问题",
        "摸清底数，制定改造计划，按期完成年度改造任务",
    ),
    (
        "背街小巷路面破损整治",
        "排查破损路段，10月底前完成修复并建立巡查机制",
    ),
    ("农贸市场周边占道经营", "规范经营秩序，设置临时疏导点"),
    ("中小学课后服务全覆盖", "完善课后服务方案，做到应开尽开"),
    (
        "居民区电动自行车充电设施建设",
        "新增充电端口，消除飞线充电隐患",
    ),
    ("河道水质提升", "落实河长制，完成截污纳管和清淤"),
    ("重点项目用地报批", "加快组卷报批，保障项目按期开工"),
    ("企业欠薪投诉办理", "依法督促清偿，建立欠薪预警台账"),
    ("冬季供暖管网改造", "供暖季前完成管网检修改造"),
    ("社区养老服务站建设", "完成年度新建任务并投入运营"),
    ("安全生产专项整治三年行动", "对照清单逐项整改，形成长效机制"),
    ("审计发现专项资金闲置问题", "盘活闲置资金，完善资金管理制度"),
    ("城区停车难问题", "挖潜增设泊位，推进智慧停车平台建设"),
    ("食品安全抽检不合格处置", "依法查处，跟踪整改到位"),
    ("防汛物资储备和应急演练", "补足物资储备，组织开展应急演练"),
    ("营商环境投诉办理", "限时办结，及时回复企业诉求"),
    ("文化惠民演出进社区", "制定全年计划，按季度完成场次"),
    ("基层医疗机构能力提升", "完成设备配置和人员培训任务"),
    ("垃圾分类示范小区创建", "完成示范小区创建并组织验收"),
    ("公交线网优化调整", "征求群众意见，优化线路和站点"),
    ("农村人居环境整治", "推进厕所革命和生活污水治理"),
    ("高标准农田建设", "按期完成建设任务并通过验收"),
    ("招商引资重点项目落地", "倒排工期，推动项目早落地早投产"),
    ("义务教育学位保障", "新增学位，满足适龄儿童入学需求"),
    ("12345热线群众反映噪声扰民", "核查情况，依法处置并回复群众"),
    (
        "媒体反映小区物业服务问题",
        "督促物业整改，建立业主满意度评价",
    ),
    ("政协提案：加快智慧社区建设", "认真研究办理，按期答复提案人"),
    (
        "人大代表建议：增设便民早餐点",
        "结合实际研究落实，按期答复代表",
    ),
    ("网上留言：道路照明设施损坏", "及时维修，回复留言群众"),
    ("上级督查反馈问题整改", "逐条制定整改措施，按期报送整改情况"),
];

pub struct DemoTokens {
    pub admin: String,
    pub supervisor: String,
    pub leader: String,
    pub unit_head: String,
    pub unit_staff: String,
    pub unit_name: String,
    /// The one password of every demo account (each hashed with its own salt).
    pub password: String,
    /// Each demo account and who it is, in the order printed.
    pub accounts: Vec<(String, String)>,
}

fn actor_of(person: &entity::person::Model, role: Role) -> Actor {
    Actor {
        person_id: person.id,
        name: person.name.clone(),
        role,
        unit_id: person.unit_id,
    }
}

/// Loads the demo district into an empty database. Returns `None` (and changes nothing)
/// when units already exist, so `--demo` is safe on every start.
pub async fn load(state: &AppState) -> AppResult<Option<DemoTokens>> {
    let db = &state.db;
    if entity::unit::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let calendar = state.calendar.current()?;
    let real_now = state.clock.now();
    // History starts ten weeks back so that every stage, and some overdue items, exist today.
    let mut now = real_now - Duration::days(70);
    let mut tick = |hours: i64| {
        now += Duration::hours(hours);
        now
    };

    let password = crate::auth::password::Password::generate()?
        .expose()
        .to_string();
    let (admin_person, admin) = org::create_person(
        db,
        &state.changes,
        None,
        tick(1),
        NewPerson {
            name: "演示管理员".into(),
            email: Some("admin@demo.gov.cn".into()),
            role: Role::Admin,
            unit_id: None,
            account: Some("demo-admin".into()),
            password: Some(password.clone()),
        },
    )
    .await?;
    let admin_actor = actor_of(&admin_person, Role::Admin);
    let mut leaders = Vec::new();
    for (name, email) in [
        ("刘区长", "quzhang"),
        ("陈常务副区长", "changwu"),
        ("杨副区长", "fuquzhang"),
    ] {
        let (person, token) = org::create_person(
            db,
            &state.changes,
            Some(&admin_actor),
            tick(1),
            NewPerson {
                name: name.into(),
                email: Some(format!("{email}@demo.gov.cn")),
                role: Role::Leader,
                unit_id: None,
                account: Some(email.into()),
                password: Some(password.clone()),
            },
        )
        .await?;
        leaders.push((person, token));
    }
    let (supervisor_person, supervisor) = org::create_person(
        db,
        &state.changes,
        Some(&admin_actor),
        tick(1),
        NewPerson {
            name: "王督查".into(),
            email: Some("duchashi@demo.gov.cn".into()),
            role: Role::Supervisor,
            unit_id: None,
            account: Some("duchashi".into()),
            password: Some(password.clone()),
        },
    )
    .await?;
    let office = actor_of(&supervisor_person, Role::Supervisor);

    let mut units = Vec::new();
    let all_units = DEPARTMENTS
        .iter()
        .map(|n| (*n, UnitKind::Department))
        .chain(SUBDISTRICTS.iter().map(|n| (*n, UnitKind::Subdistrict)))
        .chain(std::iter::once(("高新技术产业园区管委会", UnitKind::Park)));
    for (index, (name, kind)) in all_units.enumerate() {
        let leader = &leaders[index % leaders.len()].0;
        let unit = org::create_unit(
            db,
            &state.changes,
            &admin_actor,
            tick(1),
            NewUnit {
                name: name.to_string(),
                kind,
                head_name: Some(format!(
                    "{}负责人",
                    name.trim_end_matches("办事处").trim_end_matches("管委会")
                )),
                contacts: vec![(
                    "联络员".to_string(),
                    format!("unit{:02}@demo.gov.cn", index + 1),
                )],
                portfolio_leader_id: Some(leader.id),
                parent_id: None,
            },
        )
        .await?;
        let (head, head_token) = org::create_person(
            db,
            &state.changes,
            Some(&admin_actor),
            tick(1),
            NewPerson {
                name: format!("{}主要负责人", unit.name),
                email: None,
                role: Role::UnitHead,
                unit_id: Some(unit.id),
                account: Some(format!("unit{:02}", index + 1)),
                password: Some(password.clone()),
            },
        )
        .await?;
        let (staff, staff_token) = org::create_person(
            db,
            &state.changes,
            Some(&admin_actor),
            tick(1),
            NewPerson {
                name: format!("{}经办人", unit.name),
                email: None,
                role: Role::UnitStaff,
                unit_id: Some(unit.id),
                account: Some(format!("unit{:02}-staff", index + 1)),
                password: Some(password.clone()),
            },
        )
        .await?;
        units.push((unit, (head, head_token), (staff, staff_token)));
    }

    // Levels (docs/rules.md §8): two 科室 under 住建局 (unit12) and two 社区 under 东山街道
    // (unit23), each with its head, so that a part can be split or passed down.
    let mut sub_heads = Vec::new();
    for (parent_index, names) in [
        (11, ["住建局城建科", "住建局物业管理科"]),
        (22, ["东山街道幸福社区", "东山街道和平社区"]),
    ] {
        let parent = units[parent_index].0.id;
        for (n, name) in names.into_iter().enumerate() {
            let unit = org::create_unit(
                db,
                &state.changes,
                &admin_actor,
                tick(1),
                NewUnit {
                    name: name.to_string(),
                    kind: UnitKind::Other,
                    head_name: Some(format!("{name}负责人")),
                    contacts: Vec::new(),
                    portfolio_leader_id: None,
                    parent_id: Some(parent),
                },
            )
            .await?;
            let (head, _) = org::create_person(
                db,
                &state.changes,
                Some(&admin_actor),
                tick(1),
                NewPerson {
                    name: format!("{name}负责人"),
                    // An address, so that the notices of its tasks reach someone.
                    email: Some(format!("unit{:02}-{}@demo.gov.cn", parent_index + 1, n + 1)),
                    role: Role::UnitHead,
                    unit_id: Some(unit.id),
                    account: Some(format!("unit{:02}-{}", parent_index + 1, n + 1)),
                    password: Some(password.clone()),
                },
            )
            .await?;
            sub_heads.push(head);
        }
    }

    let kinds = SourceKind::ALL;
    let first_item_at = now;
    for (index, (title, requirements)) in TOPICS.iter().cycle().take(60).enumerate() {
        // Each item has its own timeline, registered 20 hours after the previous one, so the
        // last ones are registered about three weeks ago and every story ends in the past.
        let mut at = first_item_at + Duration::hours(20 * index as i64);
        let mut tick = |hours: i64| {
            at += Duration::hours(hours);
            at
        };
        let kind = kinds[index % kinds.len()];
        let (lead, (head, _), (staff, _)) = &units[(index * 7) % units.len()];
        let (co, (co_head, _), _) = &units[(index * 7 + 3) % units.len()];
        let head = actor_of(head, Role::UnitHead);
        let staff = actor_of(staff, Role::UnitStaff);
        let co_head = actor_of(co_head, Role::UnitHead);
        let round = if index < 30 { "" } else { "（第二批）" };
        let deadline = match index % 5 {
            0 => Some("10个工作日".to_string()),
            3 => Some("1个月".to_string()),
            _ => None,
        };
        // Seeded history was never mailed: no notices.
        let cx = |actor, at| Cx {
            db,
            calendar: std::sync::Arc::clone(&calendar),
            policy: &state.deadline_policy,
            actor,
            now: at,
            notices: None,
            changes: &state.changes,
        };
        let (item, _) = verbs::register(
            cx(&office, tick(9)),
            RegisterInput {
                title: format!("{title}{round}"),
                requirements: requirements.to_string(),
                source_kind: kind,
                source_reference: format!("{}〔2026〕{}号", source_prefix(kind), index + 1),
                urgency: [Urgency::Normal, Urgency::Urgent, Urgency::Critical][index % 3],
                responsible_leader_id: Some(leaders[index % leaders.len()].0.id),
                deadline,
                report_cycle_days: None,
                report_cycle_working_days: false,
                unit_ids: vec![],
                files: Vec::new(),
                upstream: None,
            },
        )
        .await?;
        // Where this item's story stops (index 0..6 stay registered, and so on).
        let stop = index % 10;
        if stop == 0 {
            continue;
        }
        let mut item = verbs::assign(
            cx(&office, tick(2)),
            item.id,
            item.version,
            lead.id,
            vec![co.id],
        )
        .await?;
        if stop == 1 {
            continue;
        }
        item = verbs::sign(cx(&head, tick(20)), item.id, item.version).await?;
        item = verbs::sign(cx(&co_head, tick(1)), item.id, item.version).await?;
        verbs::report_progress(
            cx(&staff, tick(24)),
            item.id,
            "已召开专题会议研究，制定工作方案，正在推进",
            Vec::new(),
        )
        .await?;
        match stop {
            2 => {
                verbs::request_extension(
                    cx(&head, tick(1)),
                    item.id,
                    item.version,
                    (real_now + Duration::days(20)).date_naive(),
                    "涉及多部门协调，申请延期",
                )
                .await
                .ok();
                continue;
            }
            3 | 4 => continue,
            5 => {
                item = verbs::suspend_resume_cancel_reopen(
                    cx(&office, tick(2)),
                    Action::Suspend,
                    item.id,
                    item.version,
                    Some("等待上级政策明确"),
                    None,
                )
                .await?;
                if index % 20 == 5 {
                    verbs::suspend_resume_cancel_reopen(
                        cx(&office, tick(2)),
                        Action::Cancel,
                        item.id,
                        item.version,
                        Some("事项已由上级统一部署，撤销本级督办"),
                        None,
                    )
                    .await?;
                }
                continue;
            }
            _ => {}
        }
        let (fed, _) = verbs::submit_feedback(
            cx(&head, tick(30)),
            item.id,
            item.version,
            "已按要求办结，相关材料已报送",
            Vec::new(),
        )
        .await?;
        item = fed;
        if stop == 6 {
            continue;
        }
        if stop == 7 {
            verbs::verify(
                cx(&office, tick(4)),
                item.id,
                item.version,
                (false, Some("反馈材料不完整，请补充佐证材料")),
            )
            .await?;
            continue;
        }
        item = verbs::verify(cx(&office, tick(4)), item.id, item.version, (true, None)).await?;
        if stop == 8 {
            continue;
        }
        item = verbs::close(cx(&office, tick(2)), item.id, item.version, None).await?;
        if index == 59 {
            verbs::suspend_resume_cancel_reopen(
                cx(&office, tick(24)),
                Action::Reopen,
                item.id,
                item.version,
                Some("回头看发现问题反弹，重新督办"),
                Some("10个工作日"),
            )
            .await?;
        }
    }

    let (unit_name, head_token, staff_token) = units
        .iter()
        .find(|(u, _, _)| u.name == "区住房和城乡建设局")
        .map(|(u, (_, h), (_, s))| (u.name.clone(), h.clone(), s.clone()))
        .unwrap_or_default();
    let mut accounts = vec![
        (admin_person.account.clone(), admin_person.name.clone()),
        (
            supervisor_person.account.clone(),
            format!("{}（督查室）", supervisor_person.name),
        ),
    ];
    accounts.extend(
        leaders
            .iter()
            .map(|(p, _)| (p.account.clone(), format!("{}（区领导）", p.name))),
    );
    for (_, (head, _), (staff, _)) in &units {
        accounts.push((head.account.clone(), head.name.clone()));
        accounts.push((staff.account.clone(), staff.name.clone()));
    }
    for head in &sub_heads {
        accounts.push((head.account.clone(), format!("{}（下级单位）", head.name)));
    }
    Ok(Some(DemoTokens {
        admin,
        supervisor,
        leader: leaders[0].1.clone(),
        unit_head: head_token,
        unit_staff: staff_token,
        unit_name,
        password,
        accounts: accounts
            .into_iter()
            .map(|(account, who)| (account.unwrap_or_default(), who))
            .collect(),
    }))
}

fn source_prefix(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::LeaderInstruction | SourceKind::UpperLeaderInstruction => "批示",
        SourceKind::MeetingDecision => "纪要",
        SourceKind::NpcSuggestion => "建议",
        SourceKind::CppccProposal => "提案",
        SourceKind::AuditRectification => "审计",
        SourceKind::PetitionHotline => "热线",
        _ => "督办",
    }
}

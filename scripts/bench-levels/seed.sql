-- A district over three levels for the levels benchmarks (BENCHMARKS.md, "Levels"): 300
-- top-level units, each with 3 sub-units, each with 2 below those (2,100 units); 100,000
-- items in progress, each led by a top-level unit and every other one co-led; half the items
-- split for two sub-units of the lead, a fifth of those tasks handed one level further down.
-- Run on a database the binary has migrated (it creates the first administrator, id 1).
BEGIN;
INSERT INTO unit (id, name, kind, contacts, created_at)
SELECT g, '单位' || g, 'DEPARTMENT', '[]', now() FROM generate_series(1001, 1300) g;
INSERT INTO unit (id, name, kind, contacts, parent_id, created_at)
SELECT 2000 + (g - 1001) * 3 + k, '单位' || g || '-' || k, 'OTHER', '[]', g, now()
FROM generate_series(1001, 1300) g, generate_series(0, 2) k;
INSERT INTO unit (id, name, kind, contacts, parent_id, created_at)
SELECT 5000 + (p - 2000) * 2 + k, '单位' || p || '-' || k, 'OTHER', '[]', p, now()
FROM generate_series(2000, 2899) p, generate_series(0, 1) k;
SELECT setval(pg_get_serial_sequence('unit', 'id'), 10000);

INSERT INTO item (id, serial, year, seq, title, requirements, source_kind, source_reference,
                  urgency, deadline_rule, deadline_explicit, stage, assigned_at, version,
                  created_by, created_at, updated_at, has_tasks)
SELECT g, '督〔2026〕' || g || '号', 2026, g, '事项' || g, '要求', 'LEADER_INSTRUCTION', '',
       'NORMAL', '20个工作日', true, 'IN_PROGRESS', now() - interval '5 days', 1, 1,
       now() - interval '5 days', now() - interval '5 days', g % 2 = 0
FROM generate_series(1, 100000) g;
SELECT setval(pg_get_serial_sequence('item', 'id'), 100001);

-- The lead: top-level unit 1001 + g % 300; every other item a co-unit too.
INSERT INTO assignment (id, item_id, unit_id, lead, status, due_at, calendar_version,
                        provisional, paused_working_days, signed_at, created_at)
SELECT g, g, 1001 + g % 300, true, 'ACTIVE',
       now() + ((g % 40) - 10) * interval '1 day', 1, false, 0, now() - interval '4 days',
       now() - interval '5 days'
FROM generate_series(1, 100000) g;
INSERT INTO assignment (id, item_id, unit_id, lead, status, due_at, calendar_version,
                        provisional, paused_working_days, signed_at, created_at)
SELECT 100000 + g, g, 1001 + (g + 7) % 300, false, 'ACTIVE',
       now() + ((g % 40) - 10) * interval '1 day', 1, false, 0, now() - interval '4 days',
       now() - interval '5 days'
FROM generate_series(1, 100000, 2) g;
SELECT setval(pg_get_serial_sequence('assignment', 'id'), 200001);

-- Tasks of even items, for the lead's first two sub-units; due a day before the part.
INSERT INTO task (id, item_id, assignment_id, parent_task_id, unit_id, passed_down, measures,
                  responsible, due_at, status, signed_at, version, created_by, created_at,
                  rejections)
SELECT g * 2 + k, g, g, NULL, 2000 + (g % 300) * 3 + k, false, '措施', '责任人',
       now() + ((g % 40) - 11) * interval '1 day', 'SIGNED', now() - interval '3 days', 2, 1,
       now() - interval '4 days', 0
FROM generate_series(2, 100000, 2) g, generate_series(0, 1) k;
-- A fifth of the first tasks handed down again, to the sub-unit's first sub-unit.
INSERT INTO task (id, item_id, assignment_id, parent_task_id, unit_id, passed_down, measures,
                  responsible, due_at, status, version, created_by, created_at, rejections)
SELECT 300000 + g, g, g, g * 2, 5000 + ((g % 300) * 3) * 2, true, '措施', '责任人',
       now() + ((g % 40) - 12) * interval '1 day', 'ASSIGNED', 1, 1,
       now() - interval '3 days', 0
FROM generate_series(10, 100000, 10) g;
SELECT setval(pg_get_serial_sequence('task', 'id'), 400001);
COMMIT;
ANALYZE;

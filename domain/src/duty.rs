//! What people do besides moving an item through its stages, and who may: the second half
//! of the action table (the first is [`crate::Action::allowed_for`]). Every permission the
//! service checks comes from one of the two (docs/rules.md §5).

use crate::lifecycle::Role;

/// A duty of running the supervision work rather than of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    /// The district's board: every unit's colour and the items by stage and colour.
    ViewDashboard,
    /// Change the colour rules (thresholds of 蓝黄红).
    SetColourPolicy,
    /// Run the reminder sweep now, rather than at its scheduled time.
    RunSweep,
    /// Read the outbox and send or requeue its mail.
    ManageOutbox,
    /// Publish the monthly report (月度督查通报).
    PublishReport,
    /// Import a year's national calendar (国务院办公厅通知).
    ImportCalendar,
    /// Set the jurisdiction's own day off or day on.
    SetLocalDay,
    /// Add and change units and people, and issue their tokens.
    ManageOrganisation,
    /// Approve an extension beyond the office's limit: a leader's decision (docs/rules.md §1).
    ApproveLongExtension,
}

impl Duty {
    pub fn allowed_for(self, role: Role) -> bool {
        use Duty::*;
        let office = matches!(role, Role::Admin | Role::Supervisor);
        match self {
            ViewDashboard => role.sees_everything(),
            RunSweep | ManageOutbox | PublishReport => office,
            // Rules and the calendar change every deadline and colour at once: the
            // administrator's, not a day-to-day office task.
            SetColourPolicy | ImportCalendar | SetLocalDay | ManageOrganisation => {
                role == Role::Admin
            }
            ApproveLongExtension => matches!(role, Role::Leader | Role::Admin),
        }
    }

    /// What the refusal says the role cannot do.
    pub fn label(self) -> &'static str {
        match self {
            Duty::ViewDashboard => "查看看板",
            Duty::SetColourPolicy => "修改颜色规则",
            Duty::RunSweep => "运行提醒扫描",
            Duty::ManageOutbox => "管理发件箱",
            Duty::PublishReport => "发布月度督查通报",
            Duty::ImportCalendar => "导入日历",
            Duty::SetLocalDay => "设置本地休息日或工作日",
            Duty::ManageOrganisation => "管理单位和人员",
            Duty::ApproveLongExtension => "审批超过督查室权限的延期",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_run_nothing_and_only_the_administrator_changes_the_rules() {
        let all = [
            Duty::ViewDashboard,
            Duty::SetColourPolicy,
            Duty::RunSweep,
            Duty::ManageOutbox,
            Duty::PublishReport,
            Duty::ImportCalendar,
            Duty::SetLocalDay,
            Duty::ManageOrganisation,
            Duty::ApproveLongExtension,
        ];
        for duty in all {
            assert!(!duty.allowed_for(Role::UnitHead), "{duty:?}");
            assert!(!duty.allowed_for(Role::UnitStaff), "{duty:?}");
        }
        assert!(!Duty::SetColourPolicy.allowed_for(Role::Supervisor));
        assert!(Duty::PublishReport.allowed_for(Role::Supervisor));
        assert!(!Duty::PublishReport.allowed_for(Role::Leader));
        assert!(Duty::ApproveLongExtension.allowed_for(Role::Leader));
        assert!(!Duty::ApproveLongExtension.allowed_for(Role::Supervisor));
        assert!(Duty::ViewDashboard.allowed_for(Role::Leader));
    }
}

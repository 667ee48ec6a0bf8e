//! Where an organisation stands in the program, and the gate in front of the
//! features reserved to approved partners with the current agreement
//! accepted (licenses, namespaces, listing).

use sqlx::PgConnection;

use super::MemberRole;
use crate::applications::state::ApplicationState;

#[derive(Debug, Clone)]
pub struct Standing {
    pub application: Option<ApplicationState>,
    /// The current agreement version and whether the organisation accepted it.
    pub agreement_version: String,
    pub agreement_current: bool,
}

/// Why a gated feature is not available, said to the person with what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateProblem {
    #[error("This is available once your application is approved.")]
    NotApproved,
    #[error("Your partnership is suspended. Contact the alliance team to have it reinstated.")]
    Suspended,
    #[error(
        "A new version of the Technology Partner Agreement was published. An admin of your organisation must accept it first."
    )]
    AgreementOutdated,
    #[error("Only your organisation's admins can do this.")]
    NotAdmin,
}

impl GateProblem {
    /// Where the person can do something about it.
    pub fn link(&self) -> (&'static str, &'static str) {
        match self {
            GateProblem::NotApproved => ("/application", "See your application"),
            GateProblem::Suspended => ("/dashboard", "Back to your dashboard"),
            GateProblem::AgreementOutdated => ("/agreement", "Read and accept the agreement"),
            GateProblem::NotAdmin => ("/team", "See who your admins are"),
        }
    }
}

impl Standing {
    pub async fn load(conn: &mut PgConnection, partner_id: i64) -> Result<Self, sqlx::Error> {
        let row = sqlx::query!(
            r#"select application_state, agreement_version as "agreement_version!",
                      agreement_accepted as "agreement_accepted!"
                 from partner_standing($1)"#,
            partner_id
        )
        .fetch_one(conn)
        .await?;
        Ok(Self::new(
            row.application_state,
            row.agreement_version,
            row.agreement_accepted,
        ))
    }

    /// From the columns of `partner_standing(partner_id)`, for pages that
    /// read it within a statement of their own.
    pub fn new(
        application_state: Option<String>,
        agreement_version: String,
        agreement_accepted: bool,
    ) -> Self {
        Self {
            application: application_state.and_then(|s| s.parse().ok()),
            agreement_version,
            agreement_current: agreement_accepted,
        }
    }

    pub fn is_approved(&self) -> bool {
        self.application == Some(ApplicationState::Approved)
    }

    /// May this organisation use the gated features at all?
    pub fn gate(&self) -> Result<(), GateProblem> {
        match self.application {
            Some(ApplicationState::Approved) => {}
            Some(ApplicationState::Suspended) => return Err(GateProblem::Suspended),
            _ => return Err(GateProblem::NotApproved),
        }
        if !self.agreement_current {
            return Err(GateProblem::AgreementOutdated);
        }
        Ok(())
    }

    /// May this person change a gated feature (request, register, edit)?
    pub fn gate_for(&self, role: MemberRole) -> Result<(), GateProblem> {
        self.gate()?;
        if !role.is_admin() {
            return Err(GateProblem::NotAdmin);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(state: Option<ApplicationState>, current: bool) -> Standing {
        Standing {
            application: state,
            agreement_version: "v".into(),
            agreement_current: current,
        }
    }

    #[test]
    fn only_approved_partners_with_the_current_agreement_pass() {
        assert_eq!(
            standing(Some(ApplicationState::Approved), true).gate_for(MemberRole::Admin),
            Ok(())
        );
        assert_eq!(
            standing(Some(ApplicationState::Approved), true).gate_for(MemberRole::Member),
            Err(GateProblem::NotAdmin)
        );
        assert_eq!(
            standing(Some(ApplicationState::Approved), false).gate(),
            Err(GateProblem::AgreementOutdated)
        );
        assert_eq!(
            standing(Some(ApplicationState::Suspended), true).gate(),
            Err(GateProblem::Suspended)
        );
        assert_eq!(
            standing(Some(ApplicationState::Submitted), true).gate(),
            Err(GateProblem::NotApproved)
        );
        assert_eq!(standing(None, true).gate(), Err(GateProblem::NotApproved));
    }
}

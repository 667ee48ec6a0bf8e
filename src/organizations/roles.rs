//! Roles inside a partner organisation (PRODUCT.md §1).

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberRole {
    Member,
    Admin,
    Owner,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Member => "member",
            MemberRole::Admin => "admin",
            MemberRole::Owner => "owner",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MemberRole::Member => "Member",
            MemberRole::Admin => "Admin",
            MemberRole::Owner => "Owner",
        }
    }

    /// The role in a sentence: "joined as a member", "is now an admin".
    pub fn phrase(self) -> &'static str {
        match self {
            MemberRole::Member => "a member",
            MemberRole::Admin => "an admin",
            MemberRole::Owner => "the owner",
        }
    }

    /// Edits the application and profile, manages the team, requests
    /// licenses, registers namespaces, requests the listing.
    pub fn is_admin(self) -> bool {
        self >= MemberRole::Admin
    }
}

impl FromStr for MemberRole {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "member" => Ok(MemberRole::Member),
            "admin" => Ok(MemberRole::Admin),
            "owner" => Ok(MemberRole::Owner),
            _ => Err("Choose admin or member."),
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_admins_administer_members_do_not() {
        assert!(MemberRole::Owner.is_admin());
        assert!(MemberRole::Admin.is_admin());
        assert!(!MemberRole::Member.is_admin());
        assert_eq!("admin".parse::<MemberRole>(), Ok(MemberRole::Admin));
        assert!("root".parse::<MemberRole>().is_err());
    }
}

package admin

import "slices"

// Perm is what a route needs. Every route of the portal and the admin API
// names one (see Routes); the role × route test enumerates them.
type Perm string

// The permissions. A route's permission is checked before its handler
// runs; routes on a tenant also check the account's tenants.
const (
	// PermPublic: anyone, signed in or not (sign-in, static files).
	PermPublic Perm = "public"
	// PermSignedIn: any account (the start page, the own account).
	PermSignedIn Perm = "signed-in"
	// PermSettings: tenant settings.
	PermSettings Perm = "settings"
	// PermDashboard: the dashboard, questions and feedback, read only.
	PermDashboard Perm = "dashboard"
	// PermReview: reviewing answers and making evaluation cases.
	PermReview Perm = "review"
	// PermUsers: accounts, roles and API tokens.
	PermUsers Perm = "users"
	// PermAudit: the audit log, read only.
	PermAudit Perm = "audit"
	// PermContent: the tenant's crawl sources, crawl jobs and documents,
	// read only.
	PermContent Perm = "content"
	// PermEditContent: changing sources, running crawls, excluding,
	// including and re-indexing documents.
	PermEditContent Perm = "edit-content"
	// PermModels: the tenant's prompt templates and model routes, with
	// where each comes from, read only.
	PermModels Perm = "models"
	// PermEditModels: setting and removing the tenant's own templates and
	// routes over the config's and the federation's.
	PermEditModels Perm = "edit-models"
)

// rolePerms is the one table of who may do what.
var rolePerms = map[Role][]Perm{
	RoleBeheerder: {PermSignedIn, PermSettings, PermDashboard, PermReview, PermUsers, PermAudit, PermContent, PermEditContent, PermModels, PermEditModels},
	RoleRedacteur: {PermSignedIn, PermDashboard, PermReview, PermContent, PermEditContent, PermModels},
	RoleAnalist:   {PermSignedIn, PermDashboard, PermContent, PermModels},
	RoleAuditor:   {PermSignedIn, PermAudit},
}

// Can reports whether role r has permission p.
func (r Role) Can(p Perm) bool {
	return p == PermPublic || slices.Contains(rolePerms[r], p)
}

// nodeWide permissions act on the whole node (accounts, the audit log of
// every tenant): an account scoped to some tenants never has them, or it
// could make itself an account for all.
func nodeWide(p Perm) bool { return p == PermUsers || p == PermAudit }

// Can reports whether u has permission p: its role has it and, for a
// node-wide permission, u is not scoped to some tenants.
func (u User) Can(p Perm) bool {
	return u.Role.Can(p) && !(nodeWide(p) && len(u.Tenants) > 0)
}

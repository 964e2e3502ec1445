package admin

import (
	"net/http"
)

// buildRoutes registers every route of the portal and the admin API with
// the permission it needs. A path under /admin/ or /api/v1/admin/ that is
// not here is answered 404 (405 for another method on a known path, by
// the mux).
func (a *Admin) buildRoutes() http.Handler {
	mux := http.NewServeMux()
	get, post := http.MethodGet, http.MethodPost
	r := func(method, pattern string, perm Perm, h handlerFunc) { a.route(mux, method, pattern, perm, h) }

	// Portal: sign-in, account.
	r(get, "/admin/static/{file}", PermPublic, a.static)
	r(get, "/admin/login", PermPublic, a.loginPage)
	r(post, "/admin/login", PermPublic, a.login)
	r(get, "/admin/oidc/login", PermPublic, a.oidcLogin)
	r(get, "/admin/oidc/callback", PermPublic, a.oidcCallback)
	r(post, "/admin/logout", PermSignedIn, a.logout)
	r(get, "/admin/", PermSignedIn, a.home)
	r(get, "/admin/account", PermSignedIn, a.accountPage)
	r(post, "/admin/account/password", PermSignedIn, a.changePassword)
	r(post, "/admin/account/totp", PermSignedIn, a.totpStart)
	r(post, "/admin/account/totp/confirm", PermSignedIn, a.totpConfirm)
	r(post, "/admin/account/totp/disable", PermSignedIn, a.totpDisable)

	// Portal: per tenant.
	r(get, "/admin/t/{tenant}/dashboard", PermDashboard, a.dashboardPage)
	r(get, "/admin/t/{tenant}/settings", PermSettings, a.settingsPage)
	r(post, "/admin/t/{tenant}/settings", PermSettings, a.settingsForm)
	r(get, "/admin/t/{tenant}/unanswered", PermDashboard, a.unansweredPage)
	r(get, "/admin/t/{tenant}/unanswered.csv", PermDashboard, a.unansweredCSV)
	r(get, "/admin/t/{tenant}/feedback", PermDashboard, a.feedbackPage)
	r(get, "/admin/t/{tenant}/questions/{conv}/{num}", PermDashboard, a.questionPage)
	r(post, "/admin/t/{tenant}/questions/{conv}/{num}", PermReview, a.reviewForm)
	r(get, "/admin/t/{tenant}/reviews", PermReview, a.reviewsPage)
	r(get, "/admin/t/{tenant}/eval-cases.jsonl", PermReview, a.evalCases)
	r(get, "/admin/t/{tenant}/sources", PermContent, a.sourcesPage)
	r(post, "/admin/t/{tenant}/sources", PermEditContent, a.createSourceForm)
	r(get, "/admin/t/{tenant}/sources/{source}", PermContent, a.sourcePage)
	r(post, "/admin/t/{tenant}/sources/{source}", PermEditContent, a.sourceForm)
	r(post, "/admin/t/{tenant}/sources/{source}/run", PermEditContent, a.runSourceForm)
	r(post, "/admin/t/{tenant}/sources/{source}/delete", PermEditContent, a.deleteSourceForm)
	r(get, "/admin/t/{tenant}/jobs/{job}", PermContent, a.jobPage)
	r(get, "/admin/t/{tenant}/documents", PermContent, a.documentsPage)
	r(get, "/admin/t/{tenant}/documents/{doc...}", PermContent, a.documentPage)
	r(post, "/admin/t/{tenant}/documents/{doc...}", PermEditContent, a.documentForm)
	r(get, "/admin/t/{tenant}/models", PermModels, a.modelsPage)
	r(post, "/admin/t/{tenant}/models", PermEditModels, a.modelsForm)

	// Portal: node-wide.
	r(get, "/admin/users", PermUsers, a.usersPage)
	r(post, "/admin/users", PermUsers, a.createUserForm)
	r(get, "/admin/users/{id}", PermUsers, a.userPage)
	r(post, "/admin/users/{id}", PermUsers, a.userForm)
	r(get, "/admin/tokens", PermUsers, a.tokensPage)
	r(post, "/admin/tokens", PermUsers, a.tokenForm)
	r(post, "/admin/tokens/{id}/revoke", PermUsers, a.revokeTokenForm)
	r(get, "/admin/audit", PermAudit, a.auditPage)
	r(get, "/admin/audit/export", PermAudit, a.auditExport)
	r(get, "/admin/federation", PermDashboard, a.federationPage)

	// Admin API.
	const api = "/api/v1/admin"
	r(get, api+"/tenants", PermSignedIn, a.apiTenants)
	r(get, api+"/tenants/{tenant}/settings", PermSettings, a.apiSettings)
	r(http.MethodPatch, api+"/tenants/{tenant}/settings", PermSettings, a.apiPatchSettings)
	r(post, api+"/tenants/{tenant}/sites", PermSettings, a.apiAddSite)
	r(http.MethodDelete, api+"/tenants/{tenant}/sites/{site}", PermSettings, a.apiRemoveSite)
	r(get, api+"/tenants/{tenant}/dashboard", PermDashboard, a.apiDashboard)
	r(get, api+"/tenants/{tenant}/unanswered", PermDashboard, a.apiUnanswered)
	r(get, api+"/tenants/{tenant}/feedback", PermDashboard, a.apiFeedback)
	r(get, api+"/tenants/{tenant}/questions/{conv}/{num}", PermDashboard, a.apiQuestion)
	r(http.MethodPut, api+"/tenants/{tenant}/questions/{conv}/{num}/review", PermReview, a.apiReview)
	r(get, api+"/tenants/{tenant}/eval-cases", PermReview, a.evalCases)
	r(get, api+"/tenants/{tenant}/sources", PermContent, a.apiSources)
	r(post, api+"/tenants/{tenant}/sources", PermEditContent, a.apiCreateSource)
	r(get, api+"/tenants/{tenant}/sources/{source}", PermContent, a.apiSource)
	r(http.MethodPut, api+"/tenants/{tenant}/sources/{source}", PermEditContent, a.apiPutSource)
	r(http.MethodDelete, api+"/tenants/{tenant}/sources/{source}", PermEditContent, a.apiDeleteSource)
	r(post, api+"/tenants/{tenant}/sources/{source}/crawl", PermEditContent, a.apiRunSource)
	r(get, api+"/tenants/{tenant}/sources/{source}/jobs", PermContent, a.apiSourceJobs)
	r(get, api+"/tenants/{tenant}/jobs/{job}", PermContent, a.apiJob)
	r(get, api+"/tenants/{tenant}/documents", PermContent, a.apiDocuments)
	r(get, api+"/tenants/{tenant}/documents/{doc...}", PermContent, a.apiDocument)
	r(http.MethodPatch, api+"/tenants/{tenant}/documents/{doc...}", PermEditContent, a.apiPatchDocument)
	r(post, api+"/tenants/{tenant}/reindex", PermEditContent, a.apiReindex)
	r(get, api+"/tenants/{tenant}/models", PermModels, a.apiModels)
	r(get, api+"/tenants/{tenant}/templates", PermModels, a.apiTemplates)
	r(http.MethodPut, api+"/tenants/{tenant}/templates/{name}/{lang}", PermEditModels, a.apiPutTemplate)
	r(http.MethodDelete, api+"/tenants/{tenant}/templates/{name}/{lang}", PermEditModels, a.apiDeleteTemplate)
	r(get, api+"/tenants/{tenant}/routes", PermModels, a.apiRoutes)
	r(http.MethodPut, api+"/tenants/{tenant}/routes/{task}", PermEditModels, a.apiPutRoute)
	r(http.MethodDelete, api+"/tenants/{tenant}/routes/{task}", PermEditModels, a.apiDeleteRoute)
	r(get, api+"/users", PermUsers, a.apiUsers)
	r(post, api+"/users", PermUsers, a.apiCreateUser)
	r(get, api+"/users/{id}", PermUsers, a.apiUser)
	r(http.MethodPatch, api+"/users/{id}", PermUsers, a.apiPatchUser)
	r(http.MethodDelete, api+"/users/{id}", PermUsers, a.apiDeleteUser)
	r(get, api+"/tokens", PermUsers, a.apiTokens)
	r(post, api+"/tokens", PermUsers, a.apiCreateToken)
	r(http.MethodDelete, api+"/tokens/{id}", PermUsers, a.apiRevokeToken)
	r(get, api+"/audit", PermAudit, a.apiAudit)
	r(get, api+"/audit/verify", PermAudit, a.apiAuditVerify)
	r(get, api+"/federation", PermDashboard, a.apiFederation)

	notFound := func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		a.notFound(w, r)
	}
	mux.HandleFunc("/admin/", notFound)
	mux.HandleFunc(api+"/", notFound)
	return mux
}

package views

// ProviderOAuth is what Nuova Migrazione shows about the providers that
// take OAuth2 instead of passwords. It holds no secret.
type ProviderOAuth struct {
	// MicrosoftConfigured says the operator registered the application.
	MicrosoftConfigured bool
	// MicrosoftAppID is the application (client) id, for the PowerShell
	// commands.
	MicrosoftAppID string
	// DirectoryID is the Microsoft 365 directory the tenant connected; ""
	// when none.
	DirectoryID string
	// GoogleConfigured says the operator set up the service account.
	GoogleConfigured bool
	// GoogleClientID is the service account's numeric client id.
	GoogleClientID string
	// GoogleScope is the scope the administrator authorises.
	GoogleScope string
	// Open names the panel to show open: "office365", "gmail" or "".
	Open string
}

// servicePrincipalCmd registers the application in Exchange Online.
func servicePrincipalCmd(appID string) string {
	return "New-ServicePrincipal -AppId " + appID + " -ObjectId <ObjectId> -DisplayName \"Trasloco\""
}

// fullAccessCmd grants the service principal access to one mailbox.
func fullAccessCmd(appID string) string {
	return "Add-MailboxPermission -Identity \"casella@tuodominio.it\" -User " + appID + " -AccessRights FullAccess"
}

"""Sign in: through the OpenID Connect provider, or in demo mode by picking a seeded person."""

from fleetspend.ui import sign_in

sign_in.form()

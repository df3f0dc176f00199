"""The HTTP edge: the app, who is calling, shared schemas, onboarding and operator routes."""

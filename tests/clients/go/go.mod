// The scripted app flow through the Go client that OpenAPI Generator makes from
// openapi/openapi.json with default options (module path and package name are the generator's
// defaults). tests/clients/run.sh generates it into ../.generated/go; nothing is downloaded.
module migraine-diary/tests/clients/go

go 1.19

require github.com/GIT_USER_ID/GIT_REPO_ID v0.0.0

replace github.com/GIT_USER_ID/GIT_REPO_ID => ../.generated/go

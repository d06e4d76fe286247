package production

import _ "embed"

//go:embed openapi_fragment.json
var openAPIFragment []byte

// OpenAPI returns this domain's part of the API description (paths and
// schemas), merged by the application into /api/v1/openapi.json.
func OpenAPI() []byte { return openAPIFragment }

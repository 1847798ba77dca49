/* bindgen input: FlexRIC's installed xApp API header and the shim's header. */
#include "xApp/e42_xapp_api.h"
#include "maestro_flexric.h"

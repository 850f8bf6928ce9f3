// Everything an application needs: #include <aerie/aerie.hpp>
#pragma once

#include "aerie/client/connect.hpp"
#include "aerie/core/delay.hpp"
#include "aerie/core/run.hpp"
#include "aerie/core/task.hpp"
#include "aerie/http/request.hpp"
#include "aerie/http/response.hpp"
#include "aerie/server/host.hpp"
#include "aerie/server/middleware.hpp"
#include "aerie/server/options.hpp"
#include "aerie/server/responder.hpp"
#include "aerie/server/root.hpp"
#include "aerie/server/router.hpp"
#include "aerie/server/server.hpp"
#include "aerie/websocket/websocket.hpp"

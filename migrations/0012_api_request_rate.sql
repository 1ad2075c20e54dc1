-- Lambda's control-plane request rate per tenant and API, admin-settable (PATCH /admin/tenants/{id}):
-- 15 requests a second per API (GetFunction at least 100; invocations and durable execution APIs not counted).
ALTER TABLE `tenants` ADD `api_request_rate` integer DEFAULT 15 NOT NULL;

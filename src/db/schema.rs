// One schema for both backends; keep it in step with migrations/sqlite and migrations/postgres.
// Types are limited to what diesel's MultiConnection supports on every backend.

diesel::table! {
    organizations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        credit_code -> Text,
        region_code -> Text,
        address -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        organization_id -> Text,
        public_key -> Binary,
        sealed_private_key -> Binary,
        status -> Text,
        valid_from -> Timestamp,
        valid_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (token_hash) {
        token_hash -> Text,
        organization_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        model -> Text,
        standard -> Text,
        gtin -> Nullable<Text>,
        category -> Nullable<Text>,
        marks -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> Text,
        organization_id -> Text,
        product_id -> Text,
        batch_no -> Text,
        kid -> Text,
        payload -> Text,
        signature -> Binary,
        status -> Text,
        status_reason -> Nullable<Text>,
        units -> Nullable<BigInt>,
        issued_at -> Timestamp,
    }
}

diesel::joinable!(signing_keys -> organizations (organization_id));
diesel::joinable!(api_tokens -> organizations (organization_id));
diesel::joinable!(products -> organizations (organization_id));
diesel::joinable!(certificates -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    signing_keys,
    api_tokens,
    products,
    certificates,
);

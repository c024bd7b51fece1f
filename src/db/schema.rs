// One schema for both backends; keep it in step with migrations/sqlite and migrations/postgres.
// Types are limited to what diesel's MultiConnection supports on every backend.
// Longer than 400 lines because it is diesel's list of every table.

diesel::table! {
    organizations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        credit_code -> Text,
        region_code -> Text,
        address -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
        market_id -> Nullable<Text>,
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
        compromised_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (token_hash) {
        token_hash -> Text,
        organization_id -> Nullable<Text>,
        created_at -> Timestamp,
        name -> Text,
        scope -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
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
        trail_seq -> BigInt,
        trail_hash -> Text,
        lab_id -> Nullable<Text>,
        kind -> Text,
    }
}

diesel::table! {
    events (certificate_id, seq) {
        certificate_id -> Text,
        seq -> BigInt,
        #[sql_name = "type"]
        kind -> Text,
        actor_id -> Text,
        serial -> Nullable<BigInt>,
        at -> Timestamp,
        body -> Text,
        hash -> Text,
        kid -> Text,
        signature -> Binary,
    }
}

diesel::table! {
    label_scans (certificate_id, serial) {
        certificate_id -> Text,
        serial -> BigInt,
        scans -> BigInt,
    }
}

diesel::table! {
    label_regions (certificate_id, serial, province) {
        certificate_id -> Text,
        serial -> BigInt,
        province -> Text,
        last_hour -> Timestamp,
    }
}

diesel::table! {
    scan_hours (certificate_id, serial, hour, region_code) {
        certificate_id -> Text,
        serial -> BigInt,
        hour -> Timestamp,
        region_code -> Text,
        scans -> BigInt,
    }
}

diesel::table! {
    forged_scans (certificate_id, hour, region_code) {
        certificate_id -> Text,
        hour -> Timestamp,
        region_code -> Text,
        scans -> BigInt,
    }
}

diesel::table! {
    changes (id) {
        id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        key -> Text,
    }
}

diesel::table! {
    recalls (id) {
        id -> Text,
        product_id -> Text,
        batch_no -> Nullable<Text>,
        reason -> Text,
        actor_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    marks (id) {
        id -> Text,
        product_id -> Text,
        body_id -> Text,
        scheme -> Text,
        cert_no -> Text,
        valid_from -> Text,
        valid_until -> Text,
        status -> Text,
        created_at -> Timestamp,
        suspended_by -> Nullable<Text>,
    }
}

diesel::table! {
    accreditations (id) {
        id -> Text,
        lab_id -> Text,
        scheme -> Text,
        number -> Text,
        scope -> Text,
        valid_from -> Text,
        valid_until -> Text,
        created_at -> Timestamp,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (organization_id, key) {
        organization_id -> Text,
        key -> Text,
        request_hash -> Text,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Text,
        username -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
        platform_admin -> Bool,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    complaints (certificate_id, id) {
        certificate_id -> Text,
        id -> Text,
        serial -> Nullable<BigInt>,
        category -> Text,
        message -> Text,
        contact -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    warnings (certificate_id, serial, code) {
        certificate_id -> Text,
        serial -> BigInt,
        code -> Text,
        first_seen -> Timestamp,
    }
}

diesel::joinable!(warnings -> certificates (certificate_id));
diesel::table! {
    log_pending (id) {
        id -> BigInt,
        certificate_id -> Text,
        seq -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    log_entries (idx) {
        idx -> BigInt,
        certificate_id -> Text,
        seq -> BigInt,
        sequenced_at -> Timestamp,
    }
}

diesel::table! {
    log_hash_runs (run) {
        run -> BigInt,
        hashes -> Binary,
    }
}

diesel::table! {
    log_checkpoints (tree_size) {
        tree_size -> BigInt,
        root -> Binary,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    log_witnesses (name) {
        name -> Text,
        public_key -> Binary,
        organization_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    log_cosignatures (witness, tree_size) {
        witness -> Text,
        tree_size -> BigInt,
        signed_at -> Timestamp,
        line -> Text,
    }
}

diesel::table! {
    log_backfill (due) {
        due -> Bool,
    }
}

diesel::table! {
    platform_identity (id) {
        id -> BigInt,
        log_vkey -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificate_drafts (id) {
        id -> Text,
        organization_id -> Text,
        product_id -> Text,
        kid -> Text,
        payload -> Text,
        units -> Nullable<BigInt>,
        lab_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(log_cosignatures -> log_witnesses (witness));
diesel::joinable!(signing_keys -> organizations (organization_id));
diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(complaints -> certificates (certificate_id));
diesel::joinable!(api_tokens -> organizations (organization_id));
diesel::joinable!(products -> organizations (organization_id));
diesel::joinable!(certificates -> products (product_id));
diesel::joinable!(certificates -> organizations (organization_id));
diesel::joinable!(events -> certificates (certificate_id));
diesel::joinable!(events -> organizations (actor_id));
diesel::joinable!(label_scans -> certificates (certificate_id));
diesel::joinable!(forged_scans -> certificates (certificate_id));
diesel::joinable!(recalls -> products (product_id));
diesel::joinable!(marks -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    shipments,
    custody_claims,
    gtin_owners,
    certificate_parents,
    credential_status,
    sanctions,
    reinstatement_requests,
    cases,
    webhooks,
    webhook_deliveries,
    recall_acknowledgements,
    audit_log,
    signing_keys,
    api_tokens,
    products,
    certificates,
    events,
    label_scans,
    label_regions,
    scan_hours,
    forged_scans,
    changes,
    recalls,
    marks,
    accreditations,
    idempotency_keys,
    users,
    sessions,
    complaints,
    warnings,
    log_pending,
    log_entries,
    log_hash_runs,
    log_checkpoints,
    log_witnesses,
    log_cosignatures,
    log_backfill,
    certificate_drafts,
);

diesel::table! {
    sanctions (id) {
        id -> Text,
        kind -> Text,
        organization_id -> Text,
        certificate_id -> Nullable<Text>,
        regulator_id -> Text,
        reason -> Text,
        legal_basis -> Text,
        starts_at -> Timestamp,
        lifted_at -> Nullable<Timestamp>,
        lifted_by -> Nullable<Text>,
        lift_reason -> Nullable<Text>,
    }
}

diesel::table! {
    reinstatement_requests (id) {
        id -> Text,
        certificate_id -> Text,
        sanction_id -> Text,
        organization_id -> Text,
        evidence -> Text,
        lab_report_no -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        number_hash -> Text,
        complaint_id -> Text,
        certificate_id -> Text,
        respondent_id -> Text,
        claim -> Text,
        state -> Text,
        outcome -> Nullable<Text>,
        amount_fen -> Nullable<BigInt>,
        answer -> Nullable<Text>,
        deadline_at -> Timestamp,
        decided_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        organization_id -> Text,
        event_type -> Text,
        subject_id -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    recall_acknowledgements (recall_id, retailer_id) {
        recall_id -> Text,
        retailer_id -> Text,
        quantity_removed -> BigInt,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_kind -> Text,
        region_code -> Text,
        action -> Text,
        target -> Text,
        detail -> Text,
    }
}

diesel::table! {
    gtin_owners (prefix) {
        prefix -> Text,
        kind -> Text,
        organization_id -> Text,
        assigned_at -> Timestamp,
    }
}

diesel::table! {
    custody_claims (id) {
        id -> Text,
        certificate_id -> Text,
        serial -> Nullable<BigInt>,
        claimant_id -> Text,
        source_id -> Text,
        quantity -> Nullable<BigInt>,
        label_verdict -> Text,
        note -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        received_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    shipments (id) {
        id -> Text,
        certificate_id -> Text,
        serial -> Nullable<BigInt>,
        shipper_id -> Text,
        consignee_id -> Text,
        quantity -> Nullable<BigInt>,
        shipped_seq -> BigInt,
        shipped_at -> Timestamp,
        status -> Text,
        closed_seq -> Nullable<BigInt>,
        closed_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    credential_status (certificate_id) {
        certificate_id -> Text,
        list_index -> BigInt,
    }
}

diesel::table! {
    certificate_parents (child_id, parent_id) {
        child_id -> Text,
        parent_id -> Text,
        quantity -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    certificates::organization_id,
    events::kind,
);
diesel::allow_columns_to_appear_in_same_group_by_clause!(organizations::kind, shipments::status);

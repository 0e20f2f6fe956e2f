WITH "t4" AS (
  SELECT
    *
  FROM "events" AS "t1"
  WHERE
    "t1"."event" IN ('order_completed')
    AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
), "t9" AS (
  SELECT
    *
  FROM "profiles" AS "t2"
  WHERE
    "t2"."customer_id" IS NOT NULL
    AND (
      (
        "t2"."created_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
      )
      OR (
        (
          "t2"."created_at" IS NULL
        )
        AND (
          (
            "t2"."first_event_at" IS NULL
          )
          OR (
            "t2"."first_event_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
          )
        )
      )
    )
)
SELECT
  "t49"."customer_id"
FROM (
  SELECT
    "t48"."pid",
    "t48"."customer_id",
    "t48"."created_at",
    "t48"."first_event_at",
    "t48"."last_event_at",
    "t48"."email",
    "t48"."phone",
    "t48"."first_name",
    "t48"."last_name",
    "t48"."country",
    "t48"."region",
    "t48"."city",
    "t48"."postal_code",
    "t48"."gender",
    "t48"."birth_date",
    "t48"."email_consent",
    "t48"."sms_consent",
    "t48"."x_attr_0",
    "t48"."x_attr_1",
    "t48"."x_attr_2",
    "t48"."x_attr_3",
    "t48"."x_attr_4",
    "t48"."x_attr_5",
    "t48"."x_attr_6",
    CAST(FLOOR(
      (
        EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t48"."last_seen")
      ) / (
        86400000000
      )
    ) AS BIGINT) AS "days_since_last_seen",
    "t48"."rfm_segment",
    CASE
      WHEN "t48"."orders_count" IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        (
          EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t48"."last_order_at")
        ) / (
          86400000000
        )
      ) AS BIGINT) > "t48"."churned_days"
      THEN 'churned'
      WHEN CAST(FLOOR(
        (
          EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t48"."last_order_at")
        ) / (
          86400000000
        )
      ) AS BIGINT) > "t48"."lapsed_days"
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        (
          EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t48"."last_order_at")
        ) / (
          86400000000
        )
      ) AS BIGINT) > "t48"."at_risk_days"
      THEN 'at_risk'
      WHEN "t48"."orders_count" >= "t48"."loyal_orders"
      THEN 'loyal'
      WHEN "t48"."orders_count" >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS "lifecycle_stage",
    "t48"."p_alive"
  FROM (
    SELECT
      "t47".*
      EXCLUDE ("pid_right")
    FROM (
      SELECT
        "t46"."pid",
        "t46"."customer_id",
        "t46"."created_at",
        "t46"."first_event_at",
        "t46"."last_event_at",
        "t46"."email",
        "t46"."phone",
        "t46"."first_name",
        "t46"."last_name",
        "t46"."country",
        "t46"."region",
        "t46"."city",
        "t46"."postal_code",
        "t46"."gender",
        "t46"."birth_date",
        "t46"."email_consent",
        "t46"."sms_consent",
        "t46"."x_attr_0",
        "t46"."x_attr_1",
        "t46"."x_attr_2",
        "t46"."x_attr_3",
        "t46"."x_attr_4",
        "t46"."x_attr_5",
        "t46"."x_attr_6",
        "t46"."orders_count",
        "t46"."revenue_total",
        "t46"."first_order_at",
        "t46"."last_order_at",
        "t46"."orders_60d",
        "t46"."orders_prior_60d",
        "t46"."scanned_last",
        "t46"."last_seen",
        "t46"."p_alive",
        "t46"."predicted_orders_365d",
        "t46"."predicted_clv_365d",
        "t43"."at_risk_days",
        "t43"."lapsed_days",
        "t43"."churned_days",
        "t43"."loyal_orders",
        "t39"."pid" AS "pid_right",
        "t39"."r_score",
        "t39"."f_score",
        "t39"."m_score",
        "t39"."rfm_segment"
      FROM (
        SELECT
          "t44".*
          EXCLUDE ("pid_right")
        FROM (
          SELECT
            "t41"."pid",
            "t41"."customer_id",
            "t41"."created_at",
            "t41"."first_event_at",
            "t41"."last_event_at",
            "t41"."email",
            "t41"."phone",
            "t41"."first_name",
            "t41"."last_name",
            "t41"."country",
            "t41"."region",
            "t41"."city",
            "t41"."postal_code",
            "t41"."gender",
            "t41"."birth_date",
            "t41"."email_consent",
            "t41"."sms_consent",
            "t41"."x_attr_0",
            "t41"."x_attr_1",
            "t41"."x_attr_2",
            "t41"."x_attr_3",
            "t41"."x_attr_4",
            "t41"."x_attr_5",
            "t41"."x_attr_6",
            "t41"."orders_count",
            "t41"."revenue_total",
            "t41"."first_order_at",
            "t41"."last_order_at",
            "t41"."orders_60d",
            "t41"."orders_prior_60d",
            "t41"."scanned_last",
            "t41"."last_seen",
            "t3"."pid" AS "pid_right",
            "t3"."p_alive",
            "t3"."predicted_orders_365d",
            "t3"."predicted_clv_365d"
          FROM (
            SELECT
              "t35"."pid",
              "t35"."customer_id",
              "t35"."created_at",
              "t35"."first_event_at",
              "t35"."last_event_at",
              "t35"."email",
              "t35"."phone",
              "t35"."first_name",
              "t35"."last_name",
              "t35"."country",
              "t35"."region",
              "t35"."city",
              "t35"."postal_code",
              "t35"."gender",
              "t35"."birth_date",
              "t35"."email_consent",
              "t35"."sms_consent",
              "t35"."x_attr_0",
              "t35"."x_attr_1",
              "t35"."x_attr_2",
              "t35"."x_attr_3",
              "t35"."x_attr_4",
              "t35"."x_attr_5",
              "t35"."x_attr_6",
              "t35"."orders_count",
              "t35"."revenue_total",
              "t35"."first_order_at",
              "t35"."last_order_at",
              "t35"."orders_60d",
              "t35"."orders_prior_60d",
              "t35"."scanned_last",
              CASE
                WHEN COALESCE("t35"."last_event_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC'), FALSE)
                THEN "t35"."last_event_at"
                ELSE "t35"."scanned_last"
              END AS "last_seen"
            FROM (
              SELECT
                "t34".*
                EXCLUDE ("pid_right")
              FROM (
                SELECT
                  "t31"."pid",
                  "t31"."customer_id",
                  "t31"."created_at",
                  "t31"."first_event_at",
                  "t31"."last_event_at",
                  "t31"."email",
                  "t31"."phone",
                  "t31"."first_name",
                  "t31"."last_name",
                  "t31"."country",
                  "t31"."region",
                  "t31"."city",
                  "t31"."postal_code",
                  "t31"."gender",
                  "t31"."birth_date",
                  "t31"."email_consent",
                  "t31"."sms_consent",
                  "t31"."x_attr_0",
                  "t31"."x_attr_1",
                  "t31"."x_attr_2",
                  "t31"."x_attr_3",
                  "t31"."x_attr_4",
                  "t31"."x_attr_5",
                  "t31"."x_attr_6",
                  "t31"."orders_count",
                  "t31"."revenue_total",
                  "t31"."first_order_at",
                  "t31"."last_order_at",
                  "t31"."orders_60d",
                  "t31"."orders_prior_60d",
                  "t27"."pid" AS "pid_right",
                  "t27"."scanned_last"
                FROM (
                  SELECT
                    "t29".*
                    EXCLUDE ("pid_right")
                  FROM (
                    SELECT
                      "t15"."pid",
                      "t15"."customer_id",
                      "t15"."created_at",
                      "t15"."first_event_at",
                      "t15"."last_event_at",
                      "t15"."email",
                      "t15"."phone",
                      "t15"."first_name",
                      "t15"."last_name",
                      "t15"."country",
                      "t15"."region",
                      "t15"."city",
                      "t15"."postal_code",
                      "t15"."gender",
                      "t15"."birth_date",
                      "t15"."email_consent",
                      "t15"."sms_consent",
                      "t15"."x_attr_0",
                      "t15"."x_attr_1",
                      "t15"."x_attr_2",
                      "t15"."x_attr_3",
                      "t15"."x_attr_4",
                      "t15"."x_attr_5",
                      "t15"."x_attr_6",
                      "t24"."pid" AS "pid_right",
                      "t24"."orders_count",
                      "t24"."revenue_total",
                      "t24"."first_order_at",
                      "t24"."last_order_at",
                      "t24"."orders_60d",
                      "t24"."orders_prior_60d"
                    FROM "t9" AS "t15"
                    LEFT OUTER JOIN (
                      SELECT
                        "t17"."pid",
                        "t17"."orders_count",
                        "t17"."revenue_total",
                        "t17"."first_order_at",
                        "t17"."last_order_at",
                        "t17"."orders_60d",
                        "t17"."orders_prior_60d"
                      FROM (
                        SELECT
                          "t6"."pid",
                          COUNT(*) AS "orders_count",
                          COALESCE(SUM("t6"."revenue"), 0) AS "revenue_total",
                          MIN("t6"."ts") AS "first_order_at",
                          MAX("t6"."ts") AS "last_order_at",
                          COUNT(*) FILTER(WHERE
                            "t6"."ts" > MAKE_TIMESTAMPTZ(2026, 9, 2, 0, 0, 0.0, 'UTC')) AS "orders_60d",
                          COUNT(*) FILTER(WHERE
                            (
                              "t6"."ts" > MAKE_TIMESTAMPTZ(2026, 7, 4, 0, 0, 0.0, 'UTC')
                            )
                            AND (
                              "t6"."ts" <= MAKE_TIMESTAMPTZ(2026, 9, 2, 0, 0, 0.0, 'UTC')
                            )) AS "orders_prior_60d"
                        FROM "t4" AS "t6"
                        GROUP BY
                          1
                      ) AS "t17"
                      SEMI JOIN "t9" AS "t14"
                        ON "t17"."pid" = "t14"."pid"
                    ) AS "t24"
                      ON "t15"."pid" = "t24"."pid"
                  ) AS "t29"
                ) AS "t31"
                LEFT OUTER JOIN (
                  SELECT
                    "t19"."pid",
                    MAX("t19"."ts") AS "scanned_last"
                  FROM (
                    SELECT
                      "t7"."pid",
                      "t7"."event",
                      "t7"."ts",
                      "t7"."revenue",
                      "t7"."properties"
                    FROM (
                      SELECT
                        *
                      FROM "events" AS "t1"
                      WHERE
                        "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
                    ) AS "t7"
                    SEMI JOIN (
                      SELECT
                        "t2"."pid"
                      FROM "profiles" AS "t2"
                      WHERE
                        "t2"."customer_id" IS NOT NULL
                        AND (
                          (
                            "t2"."created_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
                          )
                          OR (
                            (
                              "t2"."created_at" IS NULL
                            )
                            AND (
                              (
                                "t2"."first_event_at" IS NULL
                              )
                              OR (
                                "t2"."first_event_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
                              )
                            )
                          )
                        )
                        AND "t2"."last_event_at" > MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
                    ) AS "t12"
                      ON "t7"."pid" = "t12"."pid"
                  ) AS "t19"
                  GROUP BY
                    1
                ) AS "t27"
                  ON "t31"."pid" = "t27"."pid"
              ) AS "t34"
            ) AS "t35"
          ) AS "t41"
          LEFT OUTER JOIN "segmint_clv" AS "t3"
            ON "t41"."pid" = "t3"."pid"
        ) AS "t44"
      ) AS "t46"
      CROSS JOIN (
        SELECT
          "t40"."at_risk_days",
          "t40"."lapsed_days",
          "t40"."churned_days",
          "t21"."loyal_orders"
        FROM (
          SELECT
            CASE
              WHEN "t32"."n_gaps" >= 30
              THEN GREATEST(CAST(CEIL("t32"."q_at_risk") AS BIGINT), 1)
              ELSE 90
            END AS "at_risk_days",
            GREATEST(
              CASE
                WHEN "t32"."n_gaps" >= 30
                THEN GREATEST(CAST(CEIL("t32"."q_lapsed") AS BIGINT), 1)
                ELSE 180
              END,
              CASE
                WHEN "t32"."n_gaps" >= 30
                THEN GREATEST(CAST(CEIL("t32"."q_at_risk") AS BIGINT), 1)
                ELSE 90
              END + 1
            ) AS "lapsed_days",
            GREATEST(
              CASE
                WHEN "t32"."n_gaps" >= 30
                THEN GREATEST(CAST(CEIL("t32"."q_churned") AS BIGINT), 1)
                ELSE 365
              END,
              GREATEST(
                CASE
                  WHEN "t32"."n_gaps" >= 30
                  THEN GREATEST(CAST(CEIL("t32"."q_lapsed") AS BIGINT), 1)
                  ELSE 180
                END,
                CASE
                  WHEN "t32"."n_gaps" >= 30
                  THEN GREATEST(CAST(CEIL("t32"."q_at_risk") AS BIGINT), 1)
                  ELSE 90
                END + 1
              ) + 1
            ) AS "churned_days"
          FROM (
            SELECT
              COUNT(*) AS "n_gaps",
              QUANTILE_CONT("t28"."gap", 0.75) AS "q_at_risk",
              QUANTILE_CONT("t28"."gap", 0.9) AS "q_lapsed",
              QUANTILE_CONT("t28"."gap", 0.97) AS "q_churned"
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  "t18"."day" - LAG("t18"."day") OVER (
                    PARTITION BY "t18"."pid"
                    ORDER BY "t18"."day" ASC
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                  ) AS "gap"
                FROM (
                  SELECT DISTINCT
                    *
                  FROM (
                    SELECT
                      "t6"."pid",
                      CAST(FLOOR((
                        EPOCH_US("t6"."ts")
                      ) / (
                        86400000000
                      )) AS BIGINT) AS "day"
                    FROM "t4" AS "t6"
                  ) AS "t13"
                ) AS "t18"
              ) AS "t26"
              WHERE
                "t26"."gap" IS NOT NULL
            ) AS "t28"
          ) AS "t32"
        ) AS "t40"
        CROSS JOIN (
          SELECT
            GREATEST(COALESCE(CAST(CEIL(QUANTILE_CONT("t8"."n", 0.8)) AS BIGINT), 3), 3) AS "loyal_orders"
          FROM (
            SELECT
              "t6"."pid",
              COUNT(*) AS "n"
            FROM "t4" AS "t6"
            GROUP BY
              1
          ) AS "t8"
        ) AS "t21"
      ) AS "t43"
      LEFT OUTER JOIN (
        SELECT
          "t33"."pid",
          "t33"."r_score",
          "t33"."f_score",
          "t33"."m_score",
          CASE (
              "t33"."r_score" * 10
            ) + CAST(FLOOR((
              "t33"."f_score" + "t33"."m_score" + 1
            ) / (
              2
            )) AS BIGINT)
            WHEN 51
            THEN 'New'
            WHEN 52
            THEN 'Potential Loyalist'
            WHEN 53
            THEN 'Potential Loyalist'
            WHEN 54
            THEN 'Champions'
            WHEN 55
            THEN 'Champions'
            WHEN 41
            THEN 'Promising'
            WHEN 42
            THEN 'Potential Loyalist'
            WHEN 43
            THEN 'Loyal'
            WHEN 44
            THEN 'Loyal'
            WHEN 45
            THEN 'Champions'
            WHEN 31
            THEN 'About to Sleep'
            WHEN 32
            THEN 'Need Attention'
            WHEN 33
            THEN 'Need Attention'
            WHEN 34
            THEN 'Loyal'
            WHEN 35
            THEN 'Loyal'
            WHEN 21
            THEN 'Hibernating'
            WHEN 22
            THEN 'About to Sleep'
            WHEN 23
            THEN 'At Risk'
            WHEN 24
            THEN 'At Risk'
            WHEN 25
            THEN 'Can''t Lose'
            WHEN 11
            THEN 'Lost'
            WHEN 12
            THEN 'Hibernating'
            WHEN 13
            THEN 'At Risk'
            WHEN 14
            THEN 'Can''t Lose'
            WHEN 15
            THEN 'Can''t Lose'
            ELSE NULL
          END AS "rfm_segment"
        FROM (
          SELECT
            "t25"."pid",
            CAST(FLOOR(
              (
                (
                  RANK() OVER (
                    ORDER BY "t25"."days" DESC
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                  ) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS "r_score",
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY "t25"."n" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS "f_score",
            CAST(FLOOR(
              (
                (
                  RANK() OVER (
                    ORDER BY "t25"."money" ASC
                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                  ) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS "m_score"
          FROM (
            SELECT
              "t17"."pid",
              CAST(FLOOR(
                (
                  EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t17"."last_order_at")
                ) / (
                  86400000000
                )
              ) AS BIGINT) AS "days",
              "t17"."orders_count" AS "n",
              "t17"."revenue_total" AS "money"
            FROM (
              SELECT
                "t6"."pid",
                COUNT(*) AS "orders_count",
                COALESCE(SUM("t6"."revenue"), 0) AS "revenue_total",
                MIN("t6"."ts") AS "first_order_at",
                MAX("t6"."ts") AS "last_order_at",
                COUNT(*) FILTER(WHERE
                  "t6"."ts" > MAKE_TIMESTAMPTZ(2026, 9, 2, 0, 0, 0.0, 'UTC')) AS "orders_60d",
                COUNT(*) FILTER(WHERE
                  (
                    "t6"."ts" > MAKE_TIMESTAMPTZ(2026, 7, 4, 0, 0, 0.0, 'UTC')
                  )
                  AND (
                    "t6"."ts" <= MAKE_TIMESTAMPTZ(2026, 9, 2, 0, 0, 0.0, 'UTC')
                  )) AS "orders_prior_60d"
              FROM "t4" AS "t6"
              GROUP BY
                1
            ) AS "t17"
            SEMI JOIN "t9" AS "t14"
              ON "t17"."pid" = "t14"."pid"
          ) AS "t25"
        ) AS "t33"
      ) AS "t39"
        ON "t46"."pid" = "t39"."pid"
    ) AS "t47"
  ) AS "t48"
) AS "t49"
WHERE
  COALESCE("t49"."rfm_segment" = 'Champions', FALSE)
  AND COALESCE("t49"."p_alive" > 0.5, FALSE)
  AND COALESCE("t49"."lifecycle_stage" <> 'churned', FALSE)
  AND COALESCE("t49"."days_since_last_seen" <= 30, FALSE)

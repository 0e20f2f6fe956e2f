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
), "t27" AS (
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
  ) AS "t25"
  WHERE
    "t25"."gap" IS NOT NULL
)
SELECT
  "t53"."customer_id"
FROM (
  SELECT
    "t52"."pid",
    "t52"."customer_id",
    "t52"."created_at",
    "t52"."first_event_at",
    "t52"."last_event_at",
    "t52"."email",
    "t52"."phone",
    "t52"."first_name",
    "t52"."last_name",
    "t52"."country",
    "t52"."region",
    "t52"."city",
    "t52"."postal_code",
    "t52"."gender",
    "t52"."birth_date",
    "t52"."email_consent",
    "t52"."sms_consent",
    "t52"."x_attr_0",
    "t52"."x_attr_1",
    "t52"."x_attr_2",
    "t52"."x_attr_3",
    "t52"."x_attr_4",
    "t52"."x_attr_5",
    "t52"."x_attr_6",
    CAST(FLOOR(
      (
        EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t52"."last_seen")
      ) / (
        86400000000
      )
    ) AS BIGINT) AS "days_since_last_seen",
    "t52"."rfm_segment",
    CASE
      WHEN "t52"."orders_count" IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        (
          EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t52"."last_order_at")
        ) / (
          86400000000
        )
      ) AS BIGINT) > "t52"."churned_days"
      THEN 'churned'
      WHEN CAST(FLOOR(
        (
          EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t52"."last_order_at")
        ) / (
          86400000000
        )
      ) AS BIGINT) > "t52"."lapsed_days"
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        (
          EPOCH_US(MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) - EPOCH_US("t52"."last_order_at")
        ) / (
          86400000000
        )
      ) AS BIGINT) > "t52"."at_risk_days"
      THEN 'at_risk'
      WHEN "t52"."orders_count" >= "t52"."loyal_orders"
      THEN 'loyal'
      WHEN "t52"."orders_count" >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS "lifecycle_stage",
    "t52"."p_alive"
  FROM (
    SELECT
      "t51".*
      EXCLUDE ("pid_right")
    FROM (
      SELECT
        "t47"."pid",
        "t47"."customer_id",
        "t47"."created_at",
        "t47"."first_event_at",
        "t47"."last_event_at",
        "t47"."email",
        "t47"."phone",
        "t47"."first_name",
        "t47"."last_name",
        "t47"."country",
        "t47"."region",
        "t47"."city",
        "t47"."postal_code",
        "t47"."gender",
        "t47"."birth_date",
        "t47"."email_consent",
        "t47"."sms_consent",
        "t47"."x_attr_0",
        "t47"."x_attr_1",
        "t47"."x_attr_2",
        "t47"."x_attr_3",
        "t47"."x_attr_4",
        "t47"."x_attr_5",
        "t47"."x_attr_6",
        "t47"."orders_count",
        "t47"."revenue_total",
        "t47"."first_order_at",
        "t47"."last_order_at",
        "t47"."orders_60d",
        "t47"."orders_prior_60d",
        "t47"."scanned_last",
        "t47"."last_seen",
        "t47"."p_alive",
        "t47"."predicted_orders_365d",
        "t47"."predicted_clv_365d",
        "t44"."at_risk_days",
        "t44"."lapsed_days",
        "t44"."churned_days",
        "t44"."loyal_orders",
        "t50"."pid" AS "pid_right",
        "t50"."r_score",
        "t50"."f_score",
        "t50"."m_score",
        "t50"."rfm_segment"
      FROM (
        SELECT
          "t45".*
          EXCLUDE ("pid_right")
        FROM (
          SELECT
            "t39"."pid",
            "t39"."customer_id",
            "t39"."created_at",
            "t39"."first_event_at",
            "t39"."last_event_at",
            "t39"."email",
            "t39"."phone",
            "t39"."first_name",
            "t39"."last_name",
            "t39"."country",
            "t39"."region",
            "t39"."city",
            "t39"."postal_code",
            "t39"."gender",
            "t39"."birth_date",
            "t39"."email_consent",
            "t39"."sms_consent",
            "t39"."x_attr_0",
            "t39"."x_attr_1",
            "t39"."x_attr_2",
            "t39"."x_attr_3",
            "t39"."x_attr_4",
            "t39"."x_attr_5",
            "t39"."x_attr_6",
            "t39"."orders_count",
            "t39"."revenue_total",
            "t39"."first_order_at",
            "t39"."last_order_at",
            "t39"."orders_60d",
            "t39"."orders_prior_60d",
            "t39"."scanned_last",
            "t39"."last_seen",
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
                  "t26"."pid" AS "pid_right",
                  "t26"."scanned_last"
                FROM (
                  SELECT
                    "t28".*
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
                  ) AS "t28"
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
                ) AS "t26"
                  ON "t31"."pid" = "t26"."pid"
              ) AS "t34"
            ) AS "t35"
          ) AS "t39"
          LEFT OUTER JOIN "segmint_clv" AS "t3"
            ON "t39"."pid" = "t3"."pid"
        ) AS "t45"
      ) AS "t47"
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
              QUANTILE_CONT("t29"."gap", 0.75) AS "q_at_risk",
              QUANTILE_CONT("t29"."gap", 0.9) AS "q_lapsed",
              QUANTILE_CONT("t29"."gap", 0.97) AS "q_churned"
            FROM "t27" AS "t29"
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
      ) AS "t44"
      LEFT OUTER JOIN (
        SELECT
          "t48"."pid",
          "t48"."r_score",
          "t48"."f_score",
          "t48"."m_score",
          CASE (
              "t48"."r_score" * 10
            ) + CAST(FLOOR((
              "t48"."f_score" + "t48"."m_score" + 1
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
            THEN 'Hibernating'
            WHEN 14
            THEN 'Hibernating'
            WHEN 15
            THEN 'Hibernating'
            ELSE NULL
          END AS "rfm_segment"
        FROM (
          SELECT
            "t43"."pid",
            CAST(CASE
              WHEN "t43"."days" <= "t43"."recent_days"
              THEN 5
              WHEN "t43"."days" <= "t43"."at_risk_days"
              THEN 4
              WHEN "t43"."days" <= "t43"."lapsed_days"
              THEN 3
              WHEN "t43"."days" <= "t43"."churned_days"
              THEN 2
              ELSE 1
            END AS BIGINT) AS "r_score",
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY "t43"."n" ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS "f_score",
            CAST(FLOOR(
              (
                (
                  RANK() OVER (
                    ORDER BY "t43"."money" ASC
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
              "t17"."revenue_total" AS "money",
              "t41"."at_risk_days",
              "t41"."lapsed_days",
              "t41"."churned_days",
              "t41"."recent_days"
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
            CROSS JOIN (
              SELECT
                CASE
                  WHEN "t33"."n_gaps" >= 30
                  THEN GREATEST(CAST(CEIL("t33"."q_at_risk") AS BIGINT), 1)
                  ELSE 90
                END AS "at_risk_days",
                GREATEST(
                  CASE
                    WHEN "t33"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t33"."q_lapsed") AS BIGINT), 1)
                    ELSE 180
                  END,
                  CASE
                    WHEN "t33"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t33"."q_at_risk") AS BIGINT), 1)
                    ELSE 90
                  END + 1
                ) AS "lapsed_days",
                GREATEST(
                  CASE
                    WHEN "t33"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t33"."q_churned") AS BIGINT), 1)
                    ELSE 365
                  END,
                  GREATEST(
                    CASE
                      WHEN "t33"."n_gaps" >= 30
                      THEN GREATEST(CAST(CEIL("t33"."q_lapsed") AS BIGINT), 1)
                      ELSE 180
                    END,
                    CASE
                      WHEN "t33"."n_gaps" >= 30
                      THEN GREATEST(CAST(CEIL("t33"."q_at_risk") AS BIGINT), 1)
                      ELSE 90
                    END + 1
                  ) + 1
                ) AS "churned_days",
                LEAST(
                  CASE
                    WHEN "t33"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t33"."q_recent") AS BIGINT), 1)
                    ELSE 30
                  END,
                  CASE
                    WHEN "t33"."n_gaps" >= 30
                    THEN GREATEST(CAST(CEIL("t33"."q_at_risk") AS BIGINT), 1)
                    ELSE 90
                  END - 1
                ) AS "recent_days"
              FROM (
                SELECT
                  COUNT(*) AS "n_gaps",
                  QUANTILE_CONT("t29"."gap", 0.75) AS "q_at_risk",
                  QUANTILE_CONT("t29"."gap", 0.9) AS "q_lapsed",
                  QUANTILE_CONT("t29"."gap", 0.97) AS "q_churned",
                  QUANTILE_CONT("t29"."gap", 0.5) AS "q_recent"
                FROM "t27" AS "t29"
              ) AS "t33"
            ) AS "t41"
          ) AS "t43"
        ) AS "t48"
      ) AS "t50"
        ON "t47"."pid" = "t50"."pid"
    ) AS "t51"
  ) AS "t52"
) AS "t53"
WHERE
  COALESCE("t53"."rfm_segment" = 'Champions', FALSE)
  AND COALESCE("t53"."p_alive" > 0.5, FALSE)
  AND COALESCE("t53"."lifecycle_stage" <> 'churned', FALSE)
  AND COALESCE("t53"."days_since_last_seen" <= 30, FALSE)

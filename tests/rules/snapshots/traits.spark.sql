WITH `t4` AS (
  SELECT
    *
  FROM `events` AS `t1`
  WHERE
    `t1`.`event` IN ('order_completed')
    AND `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
), `t11` AS (
  SELECT
    *
  FROM `profiles` AS `t2`
  WHERE
    `t2`.`customer_id` IS NOT NULL
    AND (
      (
        `t2`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
      )
      OR (
        (
          `t2`.`created_at` IS NULL
        )
        AND (
          (
            `t2`.`first_event_at` IS NULL
          )
          OR (
            `t2`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          )
        )
      )
    )
), `t29` AS (
  SELECT
    *
  FROM (
    SELECT
      `t19`.`day` - LAG(`t19`.`day`) OVER (PARTITION BY `t19`.`pid` ORDER BY `t19`.`day` ASC NULLS LAST) AS `gap`
    FROM (
      SELECT DISTINCT
        *
      FROM (
        SELECT
          `t7`.`pid`,
          CAST(FLOOR((
            UNIX_MICROS(`t7`.`ts`)
          ) / (
            86400000000
          )) AS BIGINT) AS `day`
        FROM `t4` AS `t7`
      ) AS `t15`
    ) AS `t19`
  ) AS `t26`
  WHERE
    `t26`.`gap` IS NOT NULL
), `t45` AS (
  SELECT
    `t20`.`pid`,
    CAST(FLOOR(
      (
        UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t20`.`last_order_at`)
      ) / (
        86400000000
      )
    ) AS BIGINT) AS `days`,
    `t20`.`orders_count` AS `n`,
    `t20`.`revenue_total` AS `money`,
    `t42`.`at_risk_days`,
    `t42`.`lapsed_days`,
    `t42`.`churned_days`,
    `t42`.`recent_days`
  FROM (
    SELECT
      `t7`.`pid`,
      COUNT(*) AS `orders_count`,
      COALESCE(SUM(`t7`.`revenue`), 0) AS `revenue_total`,
      MIN(`t7`.`ts`) AS `first_order_at`,
      MAX(`t7`.`ts`) AS `last_order_at`,
      SUM(CAST(`t7`.`ts` > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP) AS BIGINT)) AS `orders_60d`,
      SUM(
        CAST((
          `t7`.`ts` > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMP)
        )
        AND (
          `t7`.`ts` <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP)
        ) AS BIGINT)
      ) AS `orders_prior_60d`
    FROM `t4` AS `t7`
    GROUP BY
      1
  ) AS `t20`
  LEFT SEMI JOIN `t11` AS `t16`
    ON `t20`.`pid` = `t16`.`pid`
  CROSS JOIN (
    SELECT
      IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
      GREATEST(
        IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_lapsed`) AS BIGINT), 1), 180),
        IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) + 1
      ) AS `lapsed_days`,
      GREATEST(
        IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_churned`) AS BIGINT), 1), 365),
        GREATEST(
          IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_lapsed`) AS BIGINT), 1), 180),
          IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) + 1
        ) + 1
      ) AS `churned_days`,
      LEAST(
        IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_recent`) AS BIGINT), 1), 30),
        IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) - 1
      ) AS `recent_days`
    FROM (
      SELECT
        COUNT(*) AS `n_gaps`,
        PERCENTILE(`t30`.`gap`, 0.75) AS `q_at_risk`,
        PERCENTILE(`t30`.`gap`, 0.9) AS `q_lapsed`,
        PERCENTILE(`t30`.`gap`, 0.97) AS `q_churned`,
        PERCENTILE(`t30`.`gap`, 0.5) AS `q_recent`
      FROM `t29` AS `t30`
    ) AS `t35`
  ) AS `t42`
)
SELECT
  `t74`.`customer_id`
FROM (
  SELECT
    `t73`.`pid`,
    `t73`.`customer_id`,
    `t73`.`created_at`,
    `t73`.`first_event_at`,
    `t73`.`last_event_at`,
    `t73`.`email`,
    `t73`.`phone`,
    `t73`.`first_name`,
    `t73`.`last_name`,
    `t73`.`country`,
    `t73`.`region`,
    `t73`.`city`,
    `t73`.`postal_code`,
    `t73`.`gender`,
    `t73`.`birth_date`,
    `t73`.`email_consent`,
    `t73`.`sms_consent`,
    `t73`.`x_attr_0`,
    `t73`.`x_attr_1`,
    `t73`.`x_attr_2`,
    `t73`.`x_attr_3`,
    `t73`.`x_attr_4`,
    `t73`.`x_attr_5`,
    `t73`.`x_attr_6`,
    CAST(FLOOR(
      (
        UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t73`.`last_seen`)
      ) / (
        86400000000
      )
    ) AS BIGINT) AS `days_since_last_seen`,
    `t73`.`rfm_segment`,
    CASE
      WHEN `t73`.`orders_count` IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        (
          UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t73`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t73`.`churned_days`
      THEN 'churned'
      WHEN CAST(FLOOR(
        (
          UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t73`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t73`.`lapsed_days`
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        (
          UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t73`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t73`.`at_risk_days`
      THEN 'at_risk'
      WHEN `t73`.`orders_count` >= `t73`.`loyal_orders`
      THEN 'loyal'
      WHEN `t73`.`orders_count` >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS `lifecycle_stage`,
    `t73`.`p_alive`
  FROM (
    SELECT
      `t72`.`pid`,
      `t72`.`customer_id`,
      `t72`.`created_at`,
      `t72`.`first_event_at`,
      `t72`.`last_event_at`,
      `t72`.`email`,
      `t72`.`phone`,
      `t72`.`first_name`,
      `t72`.`last_name`,
      `t72`.`country`,
      `t72`.`region`,
      `t72`.`city`,
      `t72`.`postal_code`,
      `t72`.`gender`,
      `t72`.`birth_date`,
      `t72`.`email_consent`,
      `t72`.`sms_consent`,
      `t72`.`x_attr_0`,
      `t72`.`x_attr_1`,
      `t72`.`x_attr_2`,
      `t72`.`x_attr_3`,
      `t72`.`x_attr_4`,
      `t72`.`x_attr_5`,
      `t72`.`x_attr_6`,
      `t72`.`orders_count`,
      `t72`.`revenue_total`,
      `t72`.`first_order_at`,
      `t72`.`last_order_at`,
      `t72`.`orders_60d`,
      `t72`.`orders_prior_60d`,
      `t72`.`scanned_last`,
      `t72`.`last_seen`,
      `t72`.`p_alive`,
      `t72`.`predicted_orders_365d`,
      `t72`.`predicted_clv_365d`,
      `t72`.`at_risk_days`,
      `t72`.`lapsed_days`,
      `t72`.`churned_days`,
      `t72`.`loyal_orders`,
      `t72`.`r_score`,
      `t72`.`f_score`,
      `t72`.`m_score`,
      `t72`.`rfm_segment`
    FROM (
      SELECT
        `t58`.`pid`,
        `t58`.`customer_id`,
        `t58`.`created_at`,
        `t58`.`first_event_at`,
        `t58`.`last_event_at`,
        `t58`.`email`,
        `t58`.`phone`,
        `t58`.`first_name`,
        `t58`.`last_name`,
        `t58`.`country`,
        `t58`.`region`,
        `t58`.`city`,
        `t58`.`postal_code`,
        `t58`.`gender`,
        `t58`.`birth_date`,
        `t58`.`email_consent`,
        `t58`.`sms_consent`,
        `t58`.`x_attr_0`,
        `t58`.`x_attr_1`,
        `t58`.`x_attr_2`,
        `t58`.`x_attr_3`,
        `t58`.`x_attr_4`,
        `t58`.`x_attr_5`,
        `t58`.`x_attr_6`,
        `t58`.`orders_count`,
        `t58`.`revenue_total`,
        `t58`.`first_order_at`,
        `t58`.`last_order_at`,
        `t58`.`orders_60d`,
        `t58`.`orders_prior_60d`,
        `t58`.`scanned_last`,
        `t58`.`last_seen`,
        `t58`.`p_alive`,
        `t58`.`predicted_orders_365d`,
        `t58`.`predicted_clv_365d`,
        `t46`.`at_risk_days`,
        `t46`.`lapsed_days`,
        `t46`.`churned_days`,
        `t46`.`loyal_orders`,
        `t71`.`pid` AS `pid_right`,
        `t71`.`r_score`,
        `t71`.`f_score`,
        `t71`.`m_score`,
        `t71`.`rfm_segment`
      FROM (
        SELECT
          `t48`.`pid`,
          `t48`.`customer_id`,
          `t48`.`created_at`,
          `t48`.`first_event_at`,
          `t48`.`last_event_at`,
          `t48`.`email`,
          `t48`.`phone`,
          `t48`.`first_name`,
          `t48`.`last_name`,
          `t48`.`country`,
          `t48`.`region`,
          `t48`.`city`,
          `t48`.`postal_code`,
          `t48`.`gender`,
          `t48`.`birth_date`,
          `t48`.`email_consent`,
          `t48`.`sms_consent`,
          `t48`.`x_attr_0`,
          `t48`.`x_attr_1`,
          `t48`.`x_attr_2`,
          `t48`.`x_attr_3`,
          `t48`.`x_attr_4`,
          `t48`.`x_attr_5`,
          `t48`.`x_attr_6`,
          `t48`.`orders_count`,
          `t48`.`revenue_total`,
          `t48`.`first_order_at`,
          `t48`.`last_order_at`,
          `t48`.`orders_60d`,
          `t48`.`orders_prior_60d`,
          `t48`.`scanned_last`,
          `t48`.`last_seen`,
          `t48`.`p_alive`,
          `t48`.`predicted_orders_365d`,
          `t48`.`predicted_clv_365d`
        FROM (
          SELECT
            `t43`.`pid`,
            `t43`.`customer_id`,
            `t43`.`created_at`,
            `t43`.`first_event_at`,
            `t43`.`last_event_at`,
            `t43`.`email`,
            `t43`.`phone`,
            `t43`.`first_name`,
            `t43`.`last_name`,
            `t43`.`country`,
            `t43`.`region`,
            `t43`.`city`,
            `t43`.`postal_code`,
            `t43`.`gender`,
            `t43`.`birth_date`,
            `t43`.`email_consent`,
            `t43`.`sms_consent`,
            `t43`.`x_attr_0`,
            `t43`.`x_attr_1`,
            `t43`.`x_attr_2`,
            `t43`.`x_attr_3`,
            `t43`.`x_attr_4`,
            `t43`.`x_attr_5`,
            `t43`.`x_attr_6`,
            `t43`.`orders_count`,
            `t43`.`revenue_total`,
            `t43`.`first_order_at`,
            `t43`.`last_order_at`,
            `t43`.`orders_60d`,
            `t43`.`orders_prior_60d`,
            `t43`.`scanned_last`,
            `t43`.`last_seen`,
            `t9`.`pid` AS `pid_right`,
            `t9`.`p_alive`,
            `t9`.`predicted_orders_365d`,
            `t9`.`predicted_clv_365d`
          FROM (
            SELECT
              `t37`.`pid`,
              `t37`.`customer_id`,
              `t37`.`created_at`,
              `t37`.`first_event_at`,
              `t37`.`last_event_at`,
              `t37`.`email`,
              `t37`.`phone`,
              `t37`.`first_name`,
              `t37`.`last_name`,
              `t37`.`country`,
              `t37`.`region`,
              `t37`.`city`,
              `t37`.`postal_code`,
              `t37`.`gender`,
              `t37`.`birth_date`,
              `t37`.`email_consent`,
              `t37`.`sms_consent`,
              `t37`.`x_attr_0`,
              `t37`.`x_attr_1`,
              `t37`.`x_attr_2`,
              `t37`.`x_attr_3`,
              `t37`.`x_attr_4`,
              `t37`.`x_attr_5`,
              `t37`.`x_attr_6`,
              `t37`.`orders_count`,
              `t37`.`revenue_total`,
              `t37`.`first_order_at`,
              `t37`.`last_order_at`,
              `t37`.`orders_60d`,
              `t37`.`orders_prior_60d`,
              `t37`.`scanned_last`,
              IF(
                COALESCE(`t37`.`last_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP), FALSE),
                `t37`.`last_event_at`,
                `t37`.`scanned_last`
              ) AS `last_seen`
            FROM (
              SELECT
                `t36`.`pid`,
                `t36`.`customer_id`,
                `t36`.`created_at`,
                `t36`.`first_event_at`,
                `t36`.`last_event_at`,
                `t36`.`email`,
                `t36`.`phone`,
                `t36`.`first_name`,
                `t36`.`last_name`,
                `t36`.`country`,
                `t36`.`region`,
                `t36`.`city`,
                `t36`.`postal_code`,
                `t36`.`gender`,
                `t36`.`birth_date`,
                `t36`.`email_consent`,
                `t36`.`sms_consent`,
                `t36`.`x_attr_0`,
                `t36`.`x_attr_1`,
                `t36`.`x_attr_2`,
                `t36`.`x_attr_3`,
                `t36`.`x_attr_4`,
                `t36`.`x_attr_5`,
                `t36`.`x_attr_6`,
                `t36`.`orders_count`,
                `t36`.`revenue_total`,
                `t36`.`first_order_at`,
                `t36`.`last_order_at`,
                `t36`.`orders_60d`,
                `t36`.`orders_prior_60d`,
                `t36`.`scanned_last`
              FROM (
                SELECT
                  `t33`.`pid`,
                  `t33`.`customer_id`,
                  `t33`.`created_at`,
                  `t33`.`first_event_at`,
                  `t33`.`last_event_at`,
                  `t33`.`email`,
                  `t33`.`phone`,
                  `t33`.`first_name`,
                  `t33`.`last_name`,
                  `t33`.`country`,
                  `t33`.`region`,
                  `t33`.`city`,
                  `t33`.`postal_code`,
                  `t33`.`gender`,
                  `t33`.`birth_date`,
                  `t33`.`email_consent`,
                  `t33`.`sms_consent`,
                  `t33`.`x_attr_0`,
                  `t33`.`x_attr_1`,
                  `t33`.`x_attr_2`,
                  `t33`.`x_attr_3`,
                  `t33`.`x_attr_4`,
                  `t33`.`x_attr_5`,
                  `t33`.`x_attr_6`,
                  `t33`.`orders_count`,
                  `t33`.`revenue_total`,
                  `t33`.`first_order_at`,
                  `t33`.`last_order_at`,
                  `t33`.`orders_60d`,
                  `t33`.`orders_prior_60d`,
                  `t28`.`pid` AS `pid_right`,
                  `t28`.`scanned_last`
                FROM (
                  SELECT
                    `t31`.`pid`,
                    `t31`.`customer_id`,
                    `t31`.`created_at`,
                    `t31`.`first_event_at`,
                    `t31`.`last_event_at`,
                    `t31`.`email`,
                    `t31`.`phone`,
                    `t31`.`first_name`,
                    `t31`.`last_name`,
                    `t31`.`country`,
                    `t31`.`region`,
                    `t31`.`city`,
                    `t31`.`postal_code`,
                    `t31`.`gender`,
                    `t31`.`birth_date`,
                    `t31`.`email_consent`,
                    `t31`.`sms_consent`,
                    `t31`.`x_attr_0`,
                    `t31`.`x_attr_1`,
                    `t31`.`x_attr_2`,
                    `t31`.`x_attr_3`,
                    `t31`.`x_attr_4`,
                    `t31`.`x_attr_5`,
                    `t31`.`x_attr_6`,
                    `t31`.`orders_count`,
                    `t31`.`revenue_total`,
                    `t31`.`first_order_at`,
                    `t31`.`last_order_at`,
                    `t31`.`orders_60d`,
                    `t31`.`orders_prior_60d`
                  FROM (
                    SELECT
                      `t17`.`pid`,
                      `t17`.`customer_id`,
                      `t17`.`created_at`,
                      `t17`.`first_event_at`,
                      `t17`.`last_event_at`,
                      `t17`.`email`,
                      `t17`.`phone`,
                      `t17`.`first_name`,
                      `t17`.`last_name`,
                      `t17`.`country`,
                      `t17`.`region`,
                      `t17`.`city`,
                      `t17`.`postal_code`,
                      `t17`.`gender`,
                      `t17`.`birth_date`,
                      `t17`.`email_consent`,
                      `t17`.`sms_consent`,
                      `t17`.`x_attr_0`,
                      `t17`.`x_attr_1`,
                      `t17`.`x_attr_2`,
                      `t17`.`x_attr_3`,
                      `t17`.`x_attr_4`,
                      `t17`.`x_attr_5`,
                      `t17`.`x_attr_6`,
                      `t27`.`pid` AS `pid_right`,
                      `t27`.`orders_count`,
                      `t27`.`revenue_total`,
                      `t27`.`first_order_at`,
                      `t27`.`last_order_at`,
                      `t27`.`orders_60d`,
                      `t27`.`orders_prior_60d`
                    FROM `t11` AS `t17`
                    LEFT OUTER JOIN (
                      SELECT
                        `t20`.`pid`,
                        `t20`.`orders_count`,
                        `t20`.`revenue_total`,
                        `t20`.`first_order_at`,
                        `t20`.`last_order_at`,
                        `t20`.`orders_60d`,
                        `t20`.`orders_prior_60d`
                      FROM (
                        SELECT
                          `t7`.`pid`,
                          COUNT(*) AS `orders_count`,
                          COALESCE(SUM(`t7`.`revenue`), 0) AS `revenue_total`,
                          MIN(`t7`.`ts`) AS `first_order_at`,
                          MAX(`t7`.`ts`) AS `last_order_at`,
                          SUM(CAST(`t7`.`ts` > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP) AS BIGINT)) AS `orders_60d`,
                          SUM(
                            CAST((
                              `t7`.`ts` > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMP)
                            )
                            AND (
                              `t7`.`ts` <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP)
                            ) AS BIGINT)
                          ) AS `orders_prior_60d`
                        FROM `t4` AS `t7`
                        GROUP BY
                          1
                      ) AS `t20`
                      LEFT SEMI JOIN `t11` AS `t16`
                        ON `t20`.`pid` = `t16`.`pid`
                    ) AS `t27`
                      ON `t17`.`pid` = `t27`.`pid`
                  ) AS `t31`
                ) AS `t33`
                LEFT OUTER JOIN (
                  SELECT
                    `t21`.`pid`,
                    MAX(`t21`.`ts`) AS `scanned_last`
                  FROM (
                    SELECT
                      `t8`.`pid`,
                      `t8`.`event`,
                      `t8`.`ts`,
                      `t8`.`revenue`,
                      `t8`.`properties`
                    FROM (
                      SELECT
                        *
                      FROM `events` AS `t1`
                      WHERE
                        `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                    ) AS `t8`
                    LEFT SEMI JOIN (
                      SELECT
                        `t2`.`pid`
                      FROM `profiles` AS `t2`
                      WHERE
                        `t2`.`customer_id` IS NOT NULL
                        AND (
                          (
                            `t2`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                          )
                          OR (
                            (
                              `t2`.`created_at` IS NULL
                            )
                            AND (
                              (
                                `t2`.`first_event_at` IS NULL
                              )
                              OR (
                                `t2`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                              )
                            )
                          )
                        )
                        AND `t2`.`last_event_at` > CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                    ) AS `t14`
                      ON `t8`.`pid` = `t14`.`pid`
                  ) AS `t21`
                  GROUP BY
                    1
                ) AS `t28`
                  ON `t33`.`pid` = `t28`.`pid`
              ) AS `t36`
            ) AS `t37`
          ) AS `t43`
          LEFT OUTER JOIN (
            SELECT
              `t3`.`pid`,
              `t3`.`p_alive`,
              `t3`.`predicted_orders_365d`,
              `t3`.`predicted_clv_365d`
            FROM (
              SELECT
                *
              FROM `clv_predictions` AS `t0`
              WHERE
                `t0`.`fit_id` = 1
            ) AS `t3`
          ) AS `t9`
            ON `t43`.`pid` = `t9`.`pid`
        ) AS `t48`
      ) AS `t58`
      CROSS JOIN (
        SELECT
          `t41`.`at_risk_days`,
          `t41`.`lapsed_days`,
          `t41`.`churned_days`,
          `t23`.`loyal_orders`
        FROM (
          SELECT
            IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
            GREATEST(
              IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_lapsed`) AS BIGINT), 1), 180),
              IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_at_risk`) AS BIGINT), 1), 90) + 1
            ) AS `lapsed_days`,
            GREATEST(
              IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_churned`) AS BIGINT), 1), 365),
              GREATEST(
                IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_lapsed`) AS BIGINT), 1), 180),
                IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_at_risk`) AS BIGINT), 1), 90) + 1
              ) + 1
            ) AS `churned_days`
          FROM (
            SELECT
              COUNT(*) AS `n_gaps`,
              PERCENTILE(`t30`.`gap`, 0.75) AS `q_at_risk`,
              PERCENTILE(`t30`.`gap`, 0.9) AS `q_lapsed`,
              PERCENTILE(`t30`.`gap`, 0.97) AS `q_churned`
            FROM `t29` AS `t30`
          ) AS `t34`
        ) AS `t41`
        CROSS JOIN (
          SELECT
            GREATEST(COALESCE(CAST(CEIL(PERCENTILE(`t10`.`n`, 0.8)) AS BIGINT), 3), 3) AS `loyal_orders`
          FROM (
            SELECT
              `t7`.`pid`,
              COUNT(*) AS `n`
            FROM `t4` AS `t7`
            GROUP BY
              1
          ) AS `t10`
        ) AS `t23`
      ) AS `t46`
      LEFT OUTER JOIN (
        SELECT
          `t69`.`pid`,
          `t69`.`r_score`,
          `t69`.`f_score`,
          `t69`.`m_score`,
          CASE (
              `t69`.`r_score` * 10
            ) + CAST(FLOOR((
              `t69`.`f_score` + `t69`.`m_score` + 1
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
            THEN 'Can\'t Lose'
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
          END AS `rfm_segment`
        FROM (
          SELECT
            `t60`.`pid`,
            `t60`.`r_score`,
            `t67`.`f_score`,
            `t68`.`m_score`
          FROM (
            SELECT
              `t47`.`pid`,
              CAST(CASE
                WHEN `t47`.`days` <= `t47`.`recent_days`
                THEN 5
                WHEN `t47`.`days` <= `t47`.`at_risk_days`
                THEN 4
                WHEN `t47`.`days` <= `t47`.`lapsed_days`
                THEN 3
                WHEN `t47`.`days` <= `t47`.`churned_days`
                THEN 2
                ELSE 1
              END AS BIGINT) AS `r_score`
            FROM `t45` AS `t47`
          ) AS `t60`
          INNER JOIN (
            SELECT
              `t55`.`pid`,
              CAST(FLOOR((
                `t63`.`worse` * 5
              ) / (
                `t57`.`buyers`
              )) AS BIGINT) + 1 AS `f_score`
            FROM (
              SELECT
                `t47`.`pid`,
                `t47`.`n` AS `value`
              FROM `t45` AS `t47`
            ) AS `t55`
            INNER JOIN (
              SELECT
                `t52`.`value`,
                `t52`.`k`,
                COALESCE(
                  SUM(`t52`.`k`) OVER (
                    ORDER BY `t52`.`value` ASC NULLS LAST
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                  ),
                  0
                ) AS `worse`
              FROM (
                SELECT
                  `t47`.`n` AS `value`,
                  COUNT(*) AS `k`
                FROM `t45` AS `t47`
                GROUP BY
                  1
              ) AS `t52`
            ) AS `t63`
              ON `t55`.`value` = `t63`.`value`
            CROSS JOIN (
              SELECT
                COUNT(*) AS `buyers`
              FROM `t45` AS `t47`
            ) AS `t57`
          ) AS `t67`
            ON `t60`.`pid` = `t67`.`pid`
          INNER JOIN (
            SELECT
              `t56`.`pid`,
              CAST(FLOOR((
                `t64`.`worse` * 5
              ) / (
                `t57`.`buyers`
              )) AS BIGINT) + 1 AS `m_score`
            FROM (
              SELECT
                `t47`.`pid`,
                `t47`.`money` AS `value`
              FROM `t45` AS `t47`
            ) AS `t56`
            INNER JOIN (
              SELECT
                `t53`.`value`,
                `t53`.`k`,
                COALESCE(
                  SUM(`t53`.`k`) OVER (
                    ORDER BY `t53`.`value` ASC NULLS LAST
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                  ),
                  0
                ) AS `worse`
              FROM (
                SELECT
                  `t47`.`money` AS `value`,
                  COUNT(*) AS `k`
                FROM `t45` AS `t47`
                GROUP BY
                  1
              ) AS `t53`
            ) AS `t64`
              ON `t56`.`value` = `t64`.`value`
            CROSS JOIN (
              SELECT
                COUNT(*) AS `buyers`
              FROM `t45` AS `t47`
            ) AS `t57`
          ) AS `t68`
            ON `t60`.`pid` = `t68`.`pid`
        ) AS `t69`
      ) AS `t71`
        ON `t58`.`pid` = `t71`.`pid`
    ) AS `t72`
  ) AS `t73`
) AS `t74`
WHERE
  COALESCE(`t74`.`rfm_segment` = 'Champions', FALSE)
  AND COALESCE(`t74`.`p_alive` > 0.5, FALSE)
  AND COALESCE(`t74`.`lifecycle_stage` <> 'churned', FALSE)
  AND COALESCE(`t74`.`days_since_last_seen` <= 30, FALSE)

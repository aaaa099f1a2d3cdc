using Strata.Contracts.Errors;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Strata.Registry.Tracking;

/// <summary>What a search clause or sort key is about.</summary>
public enum SearchEntity
{
    Metric,
    Param,
    Tag,
    Attribute,
}

/// <summary>One <c>entity.key op value</c> clause. <see cref="Value"/> is a <see cref="double"/> (metrics, numeric
/// attributes), a <see cref="string"/>, or a string array (IN / NOT IN).</summary>
public sealed record SearchClause(SearchEntity Entity, string Key, string Op, object Value);

/// <summary>One <c>order_by</c> entry.</summary>
public sealed record SearchOrder(SearchEntity Entity, string Key, bool Descending);

/// <summary>MLflow's search grammar (a subset of SQL): clauses joined by <c>AND</c>, each an identifier
/// (<c>metrics.</c>/<c>metric.</c>, <c>params.</c>/<c>param.</c>/<c>parameters.</c>, <c>tags.</c>/<c>tag.</c>,
/// <c>attributes.</c>/<c>attribute.</c>/<c>attr.</c>/<c>run.</c>; the key bare, or quoted with backticks or double
/// quotes when it holds spaces or symbols), a comparator (<c>= != &lt; &lt;= &gt; &gt;=</c>, <c>LIKE</c>,
/// <c>ILIKE</c>, <c>IN</c>, <c>NOT IN</c>) and a constant (a number for metrics and times, a quoted string otherwise,
/// a parenthesised list for IN). Anything else is rejected with a message saying where.</summary>
public static class SearchFilter
{
    /// <summary>Run attributes a filter or sort may name, and whether each is numeric.</summary>
    public static readonly IReadOnlyDictionary<string, bool> RunAttributes = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase)
    {
        ["run_id"] = false, ["run_name"] = false, ["status"] = false, ["user_id"] = false, ["artifact_uri"] = false,
        ["lifecycle_stage"] = false, ["start_time"] = true, ["end_time"] = true, ["created"] = true,
    };

    /// <summary>Experiment attributes a filter or sort may name, and whether each is numeric.</summary>
    public static readonly IReadOnlyDictionary<string, bool> ExperimentAttributes = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = false, ["experiment_id"] = false, ["creation_time"] = true, ["last_update_time"] = true,
    };

    /// <summary>Registered-model attributes: <c>name</c> to filter; <c>name</c> and the timestamps to sort.</summary>
    public static readonly IReadOnlyDictionary<string, bool> ModelAttributes = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = false,
    };

    private static readonly Dictionary<string, bool> ModelOrderAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = false, ["creation_timestamp"] = true, ["timestamp"] = true, ["last_updated_timestamp"] = true,
    };

    /// <summary>Model-version attributes a filter may name.</summary>
    public static readonly IReadOnlyDictionary<string, bool> VersionAttributes = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = false, ["run_id"] = false,
    };

    private static readonly string[] NumericOps = ["=", "!=", "<", "<=", ">", ">="];
    private static readonly string[] StringOps = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];

    /// <summary>Parses a run filter; empty or blank is no clause.</summary>
    public static IReadOnlyList<SearchClause> ParseRuns(string? filter) => Parse(filter, RunAttributes, allowMetricsAndParams: true);

    /// <summary>Parses an experiment filter (attributes and tags only).</summary>
    public static IReadOnlyList<SearchClause> ParseExperiments(string? filter) => Parse(filter, ExperimentAttributes, allowMetricsAndParams: false);

    /// <summary>Parses a registered-model filter (by name only).</summary>
    public static IReadOnlyList<SearchClause> ParseModels(string? filter) => AttributesOnly(Parse(filter, ModelAttributes, allowMetricsAndParams: false), "registered models");

    /// <summary>Parses a model-version filter (by name and run_id).</summary>
    public static IReadOnlyList<SearchClause> ParseVersions(string? filter) => AttributesOnly(Parse(filter, VersionAttributes, allowMetricsAndParams: false), "model versions");

    public static IReadOnlyList<SearchOrder> ParseModelOrder(IEnumerable<string>? orderBy) =>
        [.. ParseOrder(orderBy, ModelOrderAttributes, false).Select(o => o.Entity == SearchEntity.Attribute ? o : throw InvalidOrder("registered models are ordered by name or timestamp only"))];

    private static List<SearchClause> AttributesOnly(List<SearchClause> clauses, string what) =>
        clauses.All(c => c.Entity == SearchEntity.Attribute) ? clauses : throw Invalid($"{what} are searched by attributes only (tags are not supported)");

    /// <summary>Whether a string value satisfies a clause (for searches evaluated in memory).</summary>
    public static bool Matches(SearchClause clause, string value)
    {
        ArgumentNullException.ThrowIfNull(clause);
        return clause.Op switch
        {
            "=" => value == (string)clause.Value,
            "!=" => value != (string)clause.Value,
            "LIKE" => Like((string)clause.Value, RegexOptions.None).IsMatch(value),
            "ILIKE" => Like((string)clause.Value, RegexOptions.IgnoreCase).IsMatch(value),
            "IN" => ((string[])clause.Value).Contains(value),
            "NOT IN" => !((string[])clause.Value).Contains(value),
            _ => throw Invalid($"'{clause.Op}' does not apply to '{clause.Key}'"),
        };
    }

    private static Regex Like(string pattern, RegexOptions options)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            regex.Append(c switch
            {
                '\\' when i + 1 < pattern.Length => Regex.Escape(pattern[++i].ToString()),
                '%' => ".*",
                '_' => ".",
                _ => Regex.Escape(c.ToString()),
            });
        }
        return new Regex(regex.Append('$').ToString(), options | RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public static IReadOnlyList<SearchOrder> ParseRunOrder(IEnumerable<string>? orderBy) => ParseOrder(orderBy, RunAttributes, true);

    public static IReadOnlyList<SearchOrder> ParseExperimentOrder(IEnumerable<string>? orderBy) => ParseOrder(orderBy, ExperimentAttributes, false);

    private static List<SearchClause> Parse(string? filter, IReadOnlyDictionary<string, bool> attributes, bool allowMetricsAndParams)
    {
        var clauses = new List<SearchClause>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return clauses;
        }
        var reader = new Reader(filter);
        while (true)
        {
            var (entity, key) = reader.Identifier(attributes, allowMetricsAndParams);
            var op = reader.Comparator();
            var numeric = entity == SearchEntity.Metric || (entity == SearchEntity.Attribute && attributes[key]);
            if (!(numeric ? NumericOps : StringOps).Contains(op))
            {
                throw Invalid($"'{op}' is not a comparator for {Describe(entity, key)}; use one of {string.Join(", ", numeric ? NumericOps : StringOps)}");
            }
            object value = op is "IN" or "NOT IN" ? reader.StringList() : numeric ? reader.Number(Describe(entity, key)) : reader.QuotedString(Describe(entity, key));
            clauses.Add(new SearchClause(entity, key, op, value));
            if (reader.AtEnd)
            {
                return clauses;
            }
            reader.And();
        }
    }

    private static List<SearchOrder> ParseOrder(IEnumerable<string>? orderBy, IReadOnlyDictionary<string, bool> attributes, bool allowMetricsAndParams)
    {
        var orders = new List<SearchOrder>();
        foreach (var text in orderBy ?? [])
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                throw InvalidOrder("an entry is empty");
            }
            var reader = new Reader(text);
            var (entity, key) = reader.Identifier(attributes, allowMetricsAndParams);
            var descending = false;
            if (!reader.AtEnd)
            {
                var word = reader.Word().ToUpperInvariant();
                descending = word switch
                {
                    "DESC" => true,
                    "ASC" => false,
                    _ => throw InvalidOrder($"'{text}': expected ASC or DESC after the column, found '{word}'"),
                };
                if (!reader.AtEnd)
                {
                    throw InvalidOrder($"'{text}': unexpected text after {(descending ? "DESC" : "ASC")}");
                }
            }
            orders.Add(new SearchOrder(entity, key, descending));
        }
        return orders;
    }

    private static string Describe(SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Metric => $"metric '{key}'",
        SearchEntity.Param => $"param '{key}'",
        SearchEntity.Tag => $"tag '{key}'",
        _ => $"attribute '{key}'",
    };

    private static InputValidationException Invalid(string message) => new("filter", $"invalid search expression: {message}");

    private static InputValidationException InvalidOrder(string message) => new("order_by", message);

    /// <summary>A cursor over the filter text.</summary>
    private sealed class Reader(string text)
    {
        private int _at;

        public bool AtEnd
        {
            get
            {
                SkipSpace();
                return _at >= text.Length;
            }
        }

        private void SkipSpace()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        private InputValidationException Error(string what) =>
            Invalid($"{what} at position {_at} of '{text}'");

        public (SearchEntity, string) Identifier(IReadOnlyDictionary<string, bool> attributes, bool allowMetricsAndParams)
        {
            SkipSpace();
            var start = _at;
            while (_at < text.Length && (char.IsLetter(text[_at]) || text[_at] == '_'))
            {
                _at++;
            }
            var prefix = text[start.._at];
            string key;
            SearchEntity entity;
            if (_at < text.Length && text[_at] == '.')
            {
                _at++;
                entity = prefix.ToLowerInvariant() switch
                {
                    "metric" or "metrics" => SearchEntity.Metric,
                    "param" or "params" or "parameter" or "parameters" => SearchEntity.Param,
                    "tag" or "tags" => SearchEntity.Tag,
                    "attribute" or "attributes" or "attr" or "run" => SearchEntity.Attribute,
                    _ => throw Invalid($"'{prefix}' is not an entity; prefix the key with metrics., params., tags. or attributes."),
                };
                key = Key();
            }
            else if (prefix.Length > 0 && attributes.ContainsKey(prefix))
            {
                // MLflow accepts a bare attribute name for experiments ("name LIKE ...") and runs ("run_name = ...").
                entity = SearchEntity.Attribute;
                key = prefix;
            }
            else
            {
                _at = start;
                throw Error(prefix.Length == 0 ? "expected an identifier such as metrics.rmse" : $"'{prefix}' needs an entity prefix (metrics., params., tags. or attributes.)");
            }
            if (key.Length == 0)
            {
                throw Error("the key after the entity prefix is empty");
            }
            if (!allowMetricsAndParams && entity is SearchEntity.Metric or SearchEntity.Param)
            {
                throw Invalid($"experiments can be searched by attributes and tags only, not '{prefix}.{key}'");
            }
            if (entity == SearchEntity.Attribute)
            {
                if (!attributes.ContainsKey(key))
                {
                    throw Invalid($"'{key}' is not a searchable attribute; use one of {string.Join(", ", attributes.Keys)}");
                }
                key = string.Equals(key, "created", StringComparison.OrdinalIgnoreCase) ? "start_time" : key.ToLowerInvariant();
            }
            return (entity, key);
        }

        private string Key()
        {
            if (_at < text.Length && text[_at] is '`' or '"')
            {
                var quote = text[_at++];
                var end = text.IndexOf(quote, _at);
                if (end < 0)
                {
                    throw Error($"unterminated {quote}-quoted key");
                }
                var quoted = text[_at..end];
                _at = end + 1;
                return quoted;
            }
            var start = _at;
            while (_at < text.Length && !char.IsWhiteSpace(text[_at]) && text[_at] is not ('=' or '!' or '<' or '>' or '(' or ')' or '\'' or '"'))
            {
                _at++;
            }
            return text[start.._at];
        }

        public string Word()
        {
            SkipSpace();
            var start = _at;
            while (_at < text.Length && char.IsLetter(text[_at]))
            {
                _at++;
            }
            return text[start.._at];
        }

        public string Comparator()
        {
            SkipSpace();
            if (_at >= text.Length)
            {
                throw Error("expected a comparator");
            }
            foreach (var symbol in (string[])["!=", "<=", ">=", "=", "<", ">"])
            {
                if (string.CompareOrdinal(text, _at, symbol, 0, symbol.Length) == 0)
                {
                    _at += symbol.Length;
                    return symbol;
                }
            }
            var word = Word().ToUpperInvariant();
            if (word == "NOT")
            {
                if (!Word().Equals("IN", StringComparison.OrdinalIgnoreCase))
                {
                    throw Error("expected IN after NOT");
                }
                return "NOT IN";
            }
            return word is "LIKE" or "ILIKE" or "IN" ? word : throw Error($"'{word}' is not a comparator");
        }

        public double Number(string what)
        {
            SkipSpace();
            var start = _at;
            while (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] is '.' or '-' or '+' or 'e' or 'E'))
            {
                _at++;
            }
            if (double.TryParse(text.AsSpan(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            {
                return value;
            }
            _at = start;
            throw Error($"{what} is compared with a number; expected a numeric constant");
        }

        public string QuotedString(string what)
        {
            SkipSpace();
            if (_at >= text.Length || text[_at] is not ('\'' or '"'))
            {
                throw Error($"{what} is compared with a string; expected a quoted constant such as 'value'");
            }
            var quote = text[_at++];
            var value = new StringBuilder();
            while (true)
            {
                if (_at >= text.Length)
                {
                    throw Error("unterminated string constant");
                }
                var c = text[_at++];
                if (c == quote)
                {
                    // SQL style: a doubled quote is one quote character.
                    if (_at < text.Length && text[_at] == quote)
                    {
                        value.Append(quote);
                        _at++;
                        continue;
                    }
                    return value.ToString();
                }
                value.Append(c);
            }
        }

        public string[] StringList()
        {
            SkipSpace();
            if (_at >= text.Length || text[_at] != '(')
            {
                throw Error("IN takes a parenthesised list such as ('a', 'b')");
            }
            _at++;
            var values = new List<string>();
            while (true)
            {
                values.Add(QuotedString("an IN list"));
                SkipSpace();
                if (_at < text.Length && text[_at] == ',')
                {
                    _at++;
                    continue;
                }
                if (_at < text.Length && text[_at] == ')')
                {
                    _at++;
                    return [.. values];
                }
                throw Error("expected ',' or ')' in the IN list");
            }
        }

        public void And()
        {
            var word = Word();
            if (!word.Equals("AND", StringComparison.OrdinalIgnoreCase))
            {
                throw Error(word.Equals("OR", StringComparison.OrdinalIgnoreCase) ? "OR is not supported (clauses are joined by AND)" : "expected AND between clauses");
            }
        }
    }
}

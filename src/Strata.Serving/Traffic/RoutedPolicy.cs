using System.Buffers;
using System.IO.Hashing;
using System.Text;
using Microsoft.AspNetCore.Http;
using Strata.Contracts.Registry;
using Strata.Serving.Models;

namespace Strata.Serving.Traffic;

/// <summary>Where one request goes: the version that answers it (<see cref="Arm"/> names the rule or split arm that
/// chose it) and the version it is mirrored to, if any.</summary>
public readonly record struct Route(ServableModel Model, string Arm, ServableModel? Shadow);

/// <summary>A model's traffic policy with every version it names loaded: what serving consults per request. Immutable
/// but for its counters; replaced whole when the policy or an alias it names changes, so a request sees one policy.</summary>
public sealed class RoutedPolicy
{
    /// <summary>Buckets a sticky key hashes into: a user's arm depends only on its bucket and the weights, so it stays
    /// while the weights stay, and when a later arm grows (10% to 25%) only users moving onto it move.</summary>
    public const int Buckets = 10_000;

    private readonly (TrafficRule Rule, ServableModel Model, string Arm)[] _rules;
    private readonly (ServableModel Model, string Arm, long UpTo)[] _arms;
    private readonly long _totalWeight;
    private readonly long[] _served;

    public RoutedPolicy(string model, TrafficPolicyVersion version, IReadOnlyDictionary<TrafficTarget, ServableModel> loaded, ServableModel fallback)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(loaded);
        Model = model;
        Version = version;
        Resolved = loaded;
        var policy = version.Policy ?? new TrafficPolicy();
        Policy = policy;
        Fallback = fallback;
        _rules = [.. (policy.Rules ?? []).Select((r, i) => (r, loaded[r.Target!], $"rule {i + 1} ({r})"))];
        long sum = 0;
        _arms = [.. (policy.Split ?? []).Select(a => (loaded[a.Target!], a.Target!.ToString(), sum += a.Weight!.Value))];
        _totalWeight = sum;
        Sticky = policy.Sticky;
        if (policy.Shadow is { Target: { } shadow })
        {
            ShadowModel = loaded[shadow];
            ShadowFraction = policy.Shadow.Percent / 100;
        }
        ArmNames = [.. _rules.Select(r => r.Arm).Concat(_arms.Select(a => a.Arm)).Append(DefaultArm)];
        _served = new long[ArmNames.Count];
        Shadow = ShadowModel is null ? null : new ShadowStats(ShadowModel.VersionText);
    }

    /// <summary>The arm of a request no rule matched when the policy has no split (the served default alias).</summary>
    public const string DefaultArm = "default";

    public string Model { get; }

    /// <summary>The version each target of the policy resolved to when it came into force.</summary>
    public IReadOnlyDictionary<TrafficTarget, ServableModel> Resolved { get; }

    public TrafficPolicyVersion Version { get; }

    public TrafficPolicy Policy { get; }

    /// <summary>The version the default alias is answered by, for requests no rule or arm takes.</summary>
    public ServableModel Fallback { get; }

    public StickyAssignment? Sticky { get; }

    public ServableModel? ShadowModel { get; }

    public double ShadowFraction { get; }

    /// <summary>Comparison of the shadow's answers with the primary's (null without a shadow).</summary>
    public ShadowStats? Shadow { get; }

    /// <summary>Rules first (in order), then the split's arms, then <see cref="DefaultArm"/>.</summary>
    public IReadOnlyList<string> ArmNames { get; }

    /// <summary>Every version the policy can answer with, by arm.</summary>
    public IEnumerable<(string Arm, ServableModel Model)> Arms =>
        _rules.Select(r => (r.Arm, r.Model)).Concat(_arms.Select(a => (a.Arm, a.Model))).Append((DefaultArm, Fallback));

    /// <summary>Requests each arm answered since this policy came into force (in <see cref="ArmNames"/> order).</summary>
    public IReadOnlyList<long> Served => [.. Enumerable.Range(0, _served.Length).Select(i => Interlocked.Read(ref _served[i]))];

    /// <summary>Whether a request's sticky key comes from its body (so the router needs it).</summary>
    public bool NeedsBody => Sticky?.Key is not null;

    /// <summary>Chooses the version for one request: the first header rule that matches, else an arm by weight
    /// (by the sticky key's bucket when the request carries it, at random otherwise), else the default alias.</summary>
    public Route Choose(IHeaderDictionary headers, ReadOnlySequence<byte> body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        for (var i = 0; i < _rules.Length; i++)
        {
            var rule = _rules[i].Rule;
            if (headers.TryGetValue(rule.Header!, out var values))
            {
                foreach (var value in values)
                {
                    if (rule.Matches(value))
                    {
                        return Pick(i, _rules[i].Model);
                    }
                }
            }
        }
        if (_arms.Length == 0)
        {
            return Pick(_served.Length - 1, Fallback);
        }
        var key = Sticky switch
        {
            null => null,
            { Header: { } header } => headers.TryGetValue(header, out var v) && v.Count > 0 ? v[0] : null,
            { Key: { } field } => StickyKeys.Find(body, field),
            _ => null,
        };
        var point = key is null ? Random.Shared.NextInt64(_totalWeight) : BucketOf(key) * _totalWeight / Buckets;
        for (var a = 0; a < _arms.Length; a++)
        {
            if (point < _arms[a].UpTo)
            {
                return Pick(_rules.Length + a, _arms[a].Model);
            }
        }
        return Pick(_rules.Length + _arms.Length - 1, _arms[^1].Model);
    }

    /// <summary>A key's bucket in [0, <see cref="Buckets"/>): XxHash3 of its UTF-8, independent of the policy.</summary>
    public static long BucketOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> stack = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(key.Length) <= stack.Length ? stack[..Encoding.UTF8.GetBytes(key, stack)] : Encoding.UTF8.GetBytes(key);
        return (long)(XxHash3.HashToUInt64(bytes) % Buckets);
    }

    private Route Pick(int arm, ServableModel model)
    {
        Interlocked.Increment(ref _served[arm]);
        var shadow = ShadowModel is { } s && !ReferenceEquals(s, model) && (ShadowFraction >= 1 || Random.Shared.NextDouble() < ShadowFraction) ? s : null;
        return new Route(model, ArmNames[arm], shadow);
    }
}

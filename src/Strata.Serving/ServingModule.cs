using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Serving;
using Strata.Serving.Models;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;

namespace Strata.Serving;

/// <summary>DI registration of the Serving module (hosted in this process).</summary>
public static class ServingModule
{
    /// <summary>The Serving module: models by alias, the seed's <c>/predict</c>, KServe V1 and the Open Inference
    /// Protocol. Ready only once every served model has a version loaded.</summary>
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Serving,
        Authorization = ServingAuthorization.Table,
        RestrictedCallers = ServingAuthorization.GatewayOnly,
        Calls = [ModuleNames.Events, ModuleNames.Registry, ModuleNames.Features],
        UrlPrefixes = [ServingRoutes.Predict, ServingRoutes.Prefix, ServingRoutes.KServeV1Prefix, ServingRoutes.OpenInferencePrefix],
        ErrorShapes = new Dictionary<string, IErrorShape>
        {
            [ServingRoutes.KServeV1Prefix] = Protocols.ProtocolErrorShape.Instance,
            [ServingRoutes.OpenInferencePrefix] = Protocols.ProtocolErrorShape.Instance,
        },
        AddServices = c => c.Services.AddServingModule(),
        MapEndpoints = app => app.MapServingApi(),
        AddHttpClient = (c, url) => c.Services.AddModuleHttpClient<IServingClient, HttpServingClient>(ModuleNames.Serving, url, retryUnsafeMethods: true),
        ReadyOnStart = false,
        Replicable = true,
        // Scoring computes an answer and changes nothing (the prediction log is a record, keyed by request id).
        IdempotentPosts = [ServingRoutes.Predict, "/v1/models/{name}:predict", "/v1/models/{name}:explain", "/v2/models/{name}/infer",
            "/v2/models/{name}/versions/{version}/infer"],
        // Scoring answers in milliseconds; a replica that has not begun answering in 10 s is stuck, not busy.
        GatewayTimeout = TimeSpan.FromSeconds(10),
    };

    public static IServiceCollection AddServingModule(this IServiceCollection services)
    {
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelHost>();
        services.AddHostedService<Traffic.TrafficGauges>();
        services.AddHostedService<ModelRefresher>();
        services.AddHostedService<PredictionRequests>();
        services.AddSingleton<PredictionLog>();
        services.AddHostedService(sp => sp.GetRequiredService<PredictionLog>());
        services.AddSingleton<ServingService>();
        services.AddSingleton<FeatureAwarePredictor>();
        services.AddSingleton<Protocols.ServedModels>();
        services.AddSingleton<Traffic.ShadowMirror>();
        services.AddHostedService(sp => sp.GetRequiredService<Traffic.ShadowMirror>());
        services.AddSingleton<Traffic.TrafficRouter>();
        services.AddSingleton<IServingClient>(sp => sp.GetRequiredService<ServingService>());
        services.AddReadinessCheck<ModelLoadedCheck>("model-loaded");
        return services;
    }
}

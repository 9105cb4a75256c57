// Package ignitionpki is the control-plane-operator's controller of the
// ignition server's certificates, in the hosted control plane namespace: a
// CA kept private (Secret ignition-server-ca), its certificate published for
// clients as HyperShift does (Secret ignition-server-ca-cert, key tls.crt),
// and the serving certificate the ignition server mounts (Secret
// ignition-server-serving-cert), renewed before it expires and reissued
// when its names or CA change. It reports IgnitionServerCertificatesReady.
package ignitionpki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hypershiftv1beta1 "github.com/hcpmirror/hcpmirror/api/hypershift/v1beta1"
	"github.com/hcpmirror/hcpmirror/internal/controller/conditions"
	"github.com/hcpmirror/hcpmirror/internal/controller/dataplane"
)

// The Secrets, named as the contract between the control-plane components
// (and HyperShift) has them.
const (
	CASecret          = "ignition-server-ca"
	CACertSecret      = "ignition-server-ca-cert"
	ServingCertSecret = "ignition-server-serving-cert"
)

// FieldOwner is this controller's server-side apply identity for its condition.
const FieldOwner = "hcpmirror-control-plane-operator-ignition-pki"

// Reconciler keeps the ignition server's certificates.
type Reconciler struct {
	Client client.Client
	// Now is the clock; nil is time.Now (tests move it to prove renewal).
	Now func() time.Time
}

// SetupWithManager registers the controller: HostedControlPlanes and the
// three Secrets (an edited or deleted one is put back).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	names := map[string]bool{CASecret: true, CACertSecret: true, ServingCertSecret: true}
	return ctrl.NewControllerManagedBy(mgr).
		Named("ignitionpki").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		For(&hypershiftv1beta1.HostedControlPlane{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(dataplane.ControlPlanesOf(r.Client)),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return names[o.GetName()] }))).
		Complete(r)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile makes the three Secrets current and requeues for the next
// renewal; IgnitionServerCertificatesReady is written whatever happened.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (_ reconcile.Result, retErr error) {
	hcp := &hypershiftv1beta1.HostedControlPlane{}
	if err := r.Client.Get(ctx, req.NamespacedName, hcp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !hcp.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	var err error
	var next time.Time
	conflict := false
	defer func() {
		cond := condition(err, hcp.Generation)
		if conflict {
			// Another writer got there first: nothing is known to be
			// current until the retry, so the condition stays as it was.
			cond = conditions.Keep(hcp.Status.Conditions, cond.Type, conditions.New(cond.Type, metav1.ConditionUnknown,
				hypershiftv1beta1.ReasonWriteConflict, "the ignition server's certificates are being written; retrying", hcp.Generation))
		}
		if e := conditions.ApplyControlPlane(ctx, r.Client, hcp, FieldOwner, []metav1.Condition{cond}); e != nil && !apierrors.IsNotFound(e) {
			retErr = errors.Join(retErr, fmt.Errorf("writing HostedControlPlane status: %w", e))
		}
	}()
	next, err = r.ensure(ctx, hcp)
	if err != nil {
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			err, conflict = nil, true
			return reconcile.Result{Requeue: true}, nil
		}
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: max(time.Until(next), time.Second)}, nil
}

// condition is IgnitionServerCertificatesReady for the outcome of ensure.
func condition(err error, generation int64) metav1.Condition {
	t := hypershiftv1beta1.IgnitionServerCertificatesReady
	if err != nil {
		return conditions.New(t, metav1.ConditionUnknown, hypershiftv1beta1.ReasonSecretWriteFailed,
			"the ignition server's certificates could not be made current: "+err.Error(), generation)
	}
	return conditions.New(t, metav1.ConditionTrue, hypershiftv1beta1.ReasonAsExpected,
		fmt.Sprintf("Secrets %s, %s and %s are current.", CASecret, CACertSecret, ServingCertSecret), generation)
}

// ensure returns when the next certificate needs renewing.
func (r *Reconciler) ensure(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane) (time.Time, error) {
	logger := log.FromContext(ctx)
	ns, now := hcp.Namespace, r.now()
	caSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: CASecret}}
	if err := r.get(ctx, caSecret); err != nil {
		return time.Time{}, err
	}
	ca := keyPair{cert: caSecret.Data[corev1.TLSCertKey], key: caSecret.Data[corev1.TLSPrivateKeyKey]}
	if problem := caProblem(ca, now); problem != "" {
		if caSecret.ResourceVersion != "" {
			logger.Info("replacing the ignition server CA", "reason", problem)
		}
		var err error
		if ca, err = newCA(ns, now); err != nil {
			return time.Time{}, fmt.Errorf("making the ignition server CA: %w", err)
		}
	}
	if err := r.write(ctx, hcp, caSecret, corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: ca.cert, corev1.TLSPrivateKeyKey: ca.key}); err != nil {
		return time.Time{}, err
	}
	published := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: CACertSecret}}
	if err := r.get(ctx, published); err != nil {
		return time.Time{}, err
	}
	if err := r.write(ctx, hcp, published, corev1.SecretTypeOpaque, map[string][]byte{corev1.TLSCertKey: ca.cert}); err != nil {
		return time.Time{}, err
	}
	servingSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ServingCertSecret}}
	if err := r.get(ctx, servingSecret); err != nil {
		return time.Time{}, err
	}
	serving := keyPair{cert: servingSecret.Data[corev1.TLSCertKey], key: servingSecret.Data[corev1.TLSPrivateKeyKey]}
	if problem := servingProblem(serving, ca, ns, now); problem != "" {
		if servingSecret.ResourceVersion != "" {
			logger.Info("reissuing the ignition server's serving certificate", "reason", problem)
		}
		var err error
		if serving, err = newServing(ca, ns, now); err != nil {
			return time.Time{}, fmt.Errorf("making the ignition server's serving certificate: %w", err)
		}
	}
	if err := r.write(ctx, hcp, servingSecret, corev1.SecretTypeTLS, map[string][]byte{corev1.TLSCertKey: serving.cert, corev1.TLSPrivateKeyKey: serving.key}); err != nil {
		return time.Time{}, err
	}
	caNext, err := renewAt(ca.cert)
	if err != nil {
		return time.Time{}, err
	}
	servingNext, err := renewAt(serving.cert)
	if err != nil {
		return time.Time{}, err
	}
	if caNext.Before(servingNext) {
		return caNext, nil
	}
	return servingNext, nil
}

// get reads s from the cache; a missing one is left empty.
func (r *Reconciler) get(ctx context.Context, s *corev1.Secret) error {
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// write creates or updates s with data, owned by the HostedControlPlane;
// nothing is sent when it already holds exactly that.
func (r *Reconciler) write(ctx context.Context, hcp *hypershiftv1beta1.HostedControlPlane, s *corev1.Secret, typ corev1.SecretType, data map[string][]byte) error {
	same := s.ResourceVersion != "" && s.Type == typ && len(s.Data) == len(data) && metav1.IsControlledBy(s, hcp)
	for k, v := range data {
		same = same && bytes.Equal(s.Data[k], v)
	}
	if same {
		return nil
	}
	if s.ResourceVersion != "" && s.Type != typ {
		// The type is immutable: replace the object.
		if err := r.Client.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replacing Secret %s/%s of type %s: %w", s.Namespace, s.Name, s.Type, err)
		}
		*s = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name}}
	}
	s.Type = typ
	s.Data = data
	if err := controllerutil.SetControllerReference(hcp, s, r.Client.Scheme()); err != nil {
		return err
	}
	var err error
	if s.ResourceVersion == "" {
		err = r.Client.Create(ctx, s)
	} else {
		err = r.Client.Update(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("writing Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

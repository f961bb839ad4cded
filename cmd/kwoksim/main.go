package main

import (
	_ "github.com/google/cel-go/cel"
	_ "github.com/spf13/cobra"
	_ "gonum.org/v1/gonum/stat"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/core/validation"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/apps/validation"
	_ "k8s.io/kubernetes/pkg/controller"
	_ "k8s.io/kubernetes/pkg/controller/deployment/util"
	_ "k8s.io/kubernetes/pkg/scheduler"
	_ "k8s.io/apimachinery/pkg/util/strategicpatch"
	_ "sigs.k8s.io/kwok/pkg/apis/v1alpha1"
	_ "sigs.k8s.io/kwok/pkg/apis/internalversion"
	_ "github.com/itchyny/gojq"
)

func main() {}
